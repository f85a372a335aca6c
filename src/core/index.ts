export * from './errors.js';
export * from './ports.js';
export * from './ids.js';
export * from './evidence-events.js';
export * from './evidence-data.js';
export * from './participant.js';
export * from './message.js';
export * from './assurance.js';
