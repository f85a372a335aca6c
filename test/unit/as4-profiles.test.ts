import { thrownCode } from '../helpers/thrown-code.js';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { definePMode, withProfileDefaults } from '../../src/as4/index.js';
import {
  PROCESS_BILLING,
  formatIdentifier,
  jpPintDocumentType,
  peppolAs4Profile,
} from '../../src/peppol/index.js';
import {
  ACTION_DISPATCH,
  ACTION_EVIDENCE,
  AS4_PROFILES,
  as4Profile,
  defaultPModes,
  eDeliveryAs4v115Profile,
  eDeliveryAs4v20Profile,
  ERDS_KEY_TYPES,
  ERDS_SERVICE,
  resolvePModes,
} from '../../src/profiles/index.js';

describe('AS4 profile plug-ins', () => {
  it('registers eDelivery AS4 1.15, 2.0 and Peppol, each { id, pmodeDefaults, validate }', () => {
    expect([...AS4_PROFILES.keys()]).toEqual(['edelivery-1.15', 'edelivery-2.0', 'peppol']);
    for (const profile of AS4_PROFILES.values()) {
      expect(Object.isFrozen(profile.pmodeDefaults)).toBe(true);
      expect(profile.pmodeDefaults.profile).toBe(profile.id);
      expect(typeof profile.validate).toBe('function');
    }
    expect(thrownCode(() => as4Profile('edelivery-3.0'))).toBe('CONFIG_INVALID');
  });

  it("merges a profile's defaults under a P-Mode field by field, changing neither", () => {
    const input = { id: 'x', service: ERDS_SERVICE, action: ACTION_DISPATCH, security: { encrypt: false } };
    const merged = withProfileDefaults(eDeliveryAs4v20Profile, input);
    expect(merged.security).toEqual({ algorithmSet: 'edelivery-2.0', encrypt: false });
    expect(input.security).toEqual({ encrypt: false });
    expect(eDeliveryAs4v20Profile.pmodeDefaults.security).toEqual({
      algorithmSet: 'edelivery-2.0',
      encrypt: true,
    });
  });

  it("each eDelivery profile refuses the other's algorithms and only warns about a looser agreement", () => {
    const v2 = definePMode({
      id: 'v2',
      service: ERDS_SERVICE,
      action: ACTION_DISPATCH,
      security: { algorithmSet: 'edelivery-2.0', encrypt: false },
    });
    expect(eDeliveryAs4v115Profile.validate(v2).map((f) => `${f.severity}:${f.rule}`)).toEqual([
      'fatal:edelivery-1.15-algorithms',
      'warning:edelivery-1.15-encrypt',
    ]);
    expect(eDeliveryAs4v20Profile.validate(v2).map((f) => f.severity)).toEqual(['warning']);
  });

  it('default P-Modes: the ERDS service on eDelivery; JP PINT Invoice, CreditNote and self-billing Invoice plus the ERDS service on Peppol', () => {
    expect(
      defaultPModes('edelivery-1.15').map((p) => [p.id, p.service, p.action, p.security?.algorithmSet]),
    ).toEqual([
      ['qerds-erds-dispatch', ERDS_SERVICE, ACTION_DISPATCH, 'edelivery-1.15'],
      ['qerds-erds-evidence', ERDS_SERVICE, ACTION_EVIDENCE, 'edelivery-1.15'],
    ]);
    expect(defaultPModes('edelivery-2.0').every((p) => p.security?.algorithmSet === 'edelivery-2.0')).toBe(
      true,
    );
    const peppol = resolvePModes({ profile: 'peppol' });
    expect(peppol.map(({ pmode, profile }) => [pmode.id, profile.id, pmode.action])).toEqual([
      ['peppol-jp-pint-invoice', 'peppol', formatIdentifier(jpPintDocumentType('Invoice'))],
      ['peppol-jp-pint-creditnote', 'peppol', formatIdentifier(jpPintDocumentType('CreditNote'))],
      [
        'peppol-jp-pint-selfbilling-invoice',
        'peppol',
        formatIdentifier(jpPintDocumentType('Invoice', 'urn:peppol:pint:selfbilling-1@jp-1')),
      ],
      ['qerds-erds-evidence', 'edelivery-1.15', ACTION_EVIDENCE],
      // The ERDS service beside Peppol: one AP relays to qerds-ap peers too.
      ['qerds-erds-dispatch', 'edelivery-1.15', ACTION_DISPATCH],
    ]);
    for (const { pmode, profile } of peppol)
      expect(profile.validate(pmode).filter((f) => f.severity === 'fatal')).toEqual([]);
  });

  it('a configured P-Mode follows the profile it names (else that of its algorithm set) and is refused when it breaks it', () => {
    const erds = { id: 'erds', service: ERDS_SERVICE, action: ACTION_DISPATCH };
    expect(resolvePModes({ profile: 'edelivery-1.15', pmodes: [erds] })[0]!.profile.id).toBe(
      'edelivery-1.15',
    );
    expect(
      resolvePModes({
        profile: 'edelivery-1.15',
        pmodes: [{ ...erds, security: { algorithmSet: 'edelivery-2.0' } }],
      })[0]!.profile.id,
    ).toBe('edelivery-2.0');
    // The ERDS service is no Peppol process: under the Peppol profile it is a configuration error at start.
    expect(
      thrownCode(() =>
        resolvePModes({ profile: 'edelivery-1.15', pmodes: [{ ...erds, profile: 'peppol' }] }),
      ),
    ).toBe('CONFIG_INVALID');
    expect(
      thrownCode(() =>
        resolvePModes({
          profile: 'edelivery-1.15',
          pmodes: [{ ...erds, profile: 'edelivery-2.0', security: { algorithmSet: 'edelivery-1.15' } }],
        }),
      ),
    ).toBe('CONFIG_INVALID');
    expect(peppolAs4Profile.id).toBe('peppol');
  });

  it('a configured P-Mode naming neither profile nor algorithm set follows as4.profile, through loadConfig', () => {
    // The config schema must not fill security.algorithmSet itself, or the P-Mode would always follow edelivery-1.15.
    const resolved = (profile: string, pmode: { id: string; service: string; action: string }) =>
      resolvePModes(loadConfig({ env: {}, overrides: { as4: { profile, pmodes: [pmode] } } }).as4)[0]!;
    const v20 = resolved('edelivery-2.0', { id: 'erds', service: ERDS_SERVICE, action: ACTION_DISPATCH });
    expect(v20.profile.id).toBe('edelivery-2.0');
    expect(v20.pmode.security.algorithmSet).toBe('edelivery-2.0');
    const action = formatIdentifier(jpPintDocumentType('Invoice'));
    const peppol = resolved('peppol', { id: 'inv', service: PROCESS_BILLING, action });
    expect(peppol.profile.id).toBe('peppol');
    expect(peppol.pmode.agreement).toBe(peppolAs4Profile.pmodeDefaults.agreement);
    expect(peppol.pmode.security.algorithmSet).toBe('edelivery-1.15');
    // Without a profile at all, definePMode still gives the eDelivery 1.15 set.
    expect(definePMode({ id: 'bare', service: 's', action: 'a' }).security.algorithmSet).toBe(
      'edelivery-1.15',
    );
  });

  it('the operator example examples/peppol/qerds-peppol.yaml loads and resolves to the Peppol P-Modes', () => {
    const config = loadConfig({
      env: {},
      file: new URL('../../examples/peppol/qerds-peppol.yaml', import.meta.url).pathname,
    });
    expect(config.as4.profile).toBe('peppol');
    expect(resolvePModes(config.as4).map((p) => p.pmode.id)).toEqual([
      'peppol-jp-pint-invoice',
      'peppol-jp-pint-creditnote',
      'peppol-jp-pint-selfbilling-invoice',
      'qerds-erds-evidence',
      'qerds-erds-dispatch',
    ]);
  });

  it('names the key types an ERDS access point needs for each algorithm set', () => {
    expect(ERDS_KEY_TYPES['edelivery-1.15']).toEqual({ signature: 'rsa', encryption: 'rsa' });
    expect(ERDS_KEY_TYPES['edelivery-2.0']).toEqual({ signature: 'ed25519', encryption: 'x25519' });
  });
});
