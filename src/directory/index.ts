export type { Directory, DirectoryEntry } from './types.js';
export { createStaticDirectory, type StaticDirectoryEntry } from './static-directory.js';
