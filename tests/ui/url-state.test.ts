// URL state: every preset and edited runs round trip exactly through the page URL, the preset-relative form is the
// short one, and a bad URL falls back to the default preset with a message naming the parameter.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromQueryString, LIMITS, PRESET_NAMES, presetConfig, type RunConfig, toQueryString } from '../../src/config';
import { configFromUrl, DEFAULT_PRESET, KIND_PARAMS, urlWithConfig } from '../../src/ui/url-state';

const BASE = 'https://example.org/deadunits/?old=1#view';
const roundTrip = (config: RunConfig, base = BASE) => configFromUrl(new URL(urlWithConfig(config, base)).search);

describe('configFromUrl', () => {
  it('gives the default preset, without an error, for an empty query', () => {
    for (const search of ['', '?']) expect(configFromUrl(search)).toEqual({ config: presetConfig(DEFAULT_PRESET) });
  });

  it('reads a preset by name', () => {
    for (const name of PRESET_NAMES) expect(configFromUrl(`?preset=${name}`)).toEqual({ config: presetConfig(name) });
  });

  it("applies parameters on top of the preset, dropping the preset's parameters of a replaced kind", () => {
    const { config, error } = configFromUrl('?v=1&preset=deep_narrow&seed=9&data=gaussian_mixture&classes=3&in=8');
    expect(error).toBeUndefined();
    const expected = presetConfig('deep_narrow');
    expected.seed = 9;
    expected.inputSize = 8;
    expected.dataset = { kind: 'gaussian_mixture', samples: 4096, classes: 3, spread: 1 };
    expected.outputSize = 3;
    expect(config).toEqual(expected);
  });

  it("reads the config layer's own query format (what the CLI prints) against the schema defaults", () => {
    const c = presetConfig('negative_bias');
    c.lr = 0.003;
    expect(configFromUrl(`?${toQueryString(c)}`)).toEqual({ config: c });
  });

  it.each([
    ['?preset=nope', 'URL parameter preset: "nope" is not one of dropout_only'],
    ['?preset=lr_too_high&preset=deep_narrow', 'URL parameter preset: is given more than once'],
    ['?preset=lr_too_high&seed=1&seed=2', 'URL parameter seed: is given more than once'],
    ['?preset=lr_too_high&lr=200', 'URL parameter lr: 200 is not in (0, 100]'],
    ['?preset=lr_too_high&hidden=0:relu', 'URL parameter hidden: 0 is not an integer in [1, 1048576]'],
    ['?v=1&lr=abc', 'URL parameter lr: "abc" is not a number'],
    ['?v=1&colour=red', 'URL parameter colour: unknown URL parameter'],
    ['?preset=dropout_only&beta1=0.5', 'URL parameter beta1: applies only with opt=adam|adamw'],
  ])('falls back to the default preset for %s, naming the parameter', (search, message) => {
    const { config, error } = configFromUrl(search);
    expect(config).toEqual(presetConfig(DEFAULT_PRESET));
    expect(error).toContain(message);
    expect(error).toContain(`Showing the preset "${DEFAULT_PRESET}" instead`);
  });

  it('keeps a run on your own files, named by name, size and SHA-256 (the page then finds or asks for them)', () => {
    const sha = 'b'.repeat(64);
    const { config, error } = configFromUrl(`?v=1&data=file&file=x.npy&input=x.npy&input_bytes=128&input_sha=${sha}&out=3`);
    expect(error).toBeUndefined();
    expect(config.dataset).toEqual({ kind: 'file', name: 'x.npy', inputs: { path: 'x.npy', bytes: 128, sha256: sha } });
    expect(configFromUrl(urlWithConfig(config, 'http://h/').replace(/^[^?]*/, '')).config).toEqual(config);
    expect(configFromUrl('?preset=dropout_only&data=file&file=x.npy&out=3').config.dataset).toEqual({ kind: 'file', name: 'x.npy' });
  });

  it('leaves the page parameters it is told to ignore', () => {
    expect(configFromUrl('?preset=lr_too_high&autorun=1', { ignore: ['autorun'] })).toEqual({ config: presetConfig('lr_too_high') });
    expect(configFromUrl('?autorun=1', { ignore: ['autorun'] })).toEqual({ config: presetConfig(DEFAULT_PRESET) });
    expect(configFromUrl('?preset=lr_too_high&autorun=1').error).toContain('URL parameter autorun');
  });
});

describe('urlWithConfig', () => {
  it('writes a bare preset as v=1&preset=NAME, keeping path and hash and dropping unknown page parameters', () => {
    for (const name of PRESET_NAMES) expect(urlWithConfig(presetConfig(name), BASE)).toBe(`https://example.org/deadunits/?v=1&preset=${name}#view`);
  });

  it('keeps the page parameters named in options.ignore', () => {
    const url = urlWithConfig(presetConfig('lr_too_high'), 'https://x.test/?autorun=1&v=1&seed=3', { ignore: ['autorun'] });
    expect(url).toBe('https://x.test/?v=1&preset=lr_too_high&autorun=1');
    expect(configFromUrl(new URL(url).search, { ignore: ['autorun'] })).toEqual({ config: presetConfig('lr_too_high') });
  });

  it('writes only the parameters that differ from the nearest preset', () => {
    const c = presetConfig('deep_narrow');
    c.seed = 42;
    c.hidden[3].width = 5;
    const url = urlWithConfig(c, BASE);
    expect(new URL(url).search).toBe('?v=1&preset=deep_narrow&hidden=3:relu:0*3,5:relu:0,3:relu:0*12&seed=42');
    expect(roundTrip(c)).toEqual({ config: c });
  });

  it('falls back to the full query when it is shorter or the preset form cannot say it', () => {
    // negative_bias sets a non-default init that this config resets to the schema default: "back to default" has no
    // spelling relative to the preset, so another preset or the full form is used.
    const c = presetConfig('negative_bias');
    c.hidden = c.hidden.map((l) => ({ ...l, init: { weights: { kind: 'he_normal' }, bias: { kind: 'constant', value: 0 } } }));
    c.stepsPerSubmit = 7;
    const url = urlWithConfig(c, BASE);
    expect(roundTrip(c)).toEqual({ config: c });
    expect(url).not.toContain('preset=negative_bias');
  });

  it('round trips edited presets exactly (property)', () => {
    const edit = fc.record({
      preset: fc.constantFrom(...PRESET_NAMES),
      seed: fc.option(fc.integer({ min: 0, max: LIMITS.seed.max })),
      lr: fc.option(fc.double({ min: 1e-6, max: 100, noNaN: true })),
      dropout: fc.option(fc.double({ min: 0, max: 0.99, noNaN: true })),
      width: fc.option(fc.integer({ min: 1, max: 4096 })),
      opt: fc.option(fc.constantFrom('sgd', 'momentum', 'adam', 'adamw') as fc.Arbitrary<'sgd' | 'momentum' | 'adam' | 'adamw'>),
      sched: fc.option(fc.constantFrom('constant', 'step', 'cosine') as fc.Arbitrary<'constant' | 'step' | 'cosine'>),
      data: fc.option(
        fc.constantFrom('teacher', 'gaussian_mixture', 'spirals', 'sparse') as fc.Arbitrary<'teacher' | 'gaussian_mixture' | 'spirals' | 'sparse'>,
      ),
      snap: fc.option(fc.integer({ min: 0, max: 1000 })),
    });
    fc.assert(
      fc.property(edit, (e) => {
        const c = presetConfig(e.preset);
        if (e.seed !== null) c.seed = e.seed;
        if (e.lr !== null) c.lr = e.lr;
        if (e.dropout !== null) c.hidden[0].dropout = e.dropout + 0;
        if (e.width !== null) c.hidden[c.hidden.length - 1].width = e.width;
        if (e.opt !== null)
          c.optimizer =
            e.opt === 'sgd'
              ? { kind: 'sgd' }
              : e.opt === 'momentum'
                ? { kind: 'momentum', momentum: 0.8, nesterov: true }
                : { kind: e.opt, beta1: 0.85, beta2: 0.999, eps: 1e-8 };
        if (e.sched !== null)
          c.schedule =
            e.sched === 'constant'
              ? { kind: 'constant', warmupSteps: 10 }
              : e.sched === 'step'
                ? { kind: 'step', every: 500, gamma: 0.5, warmupSteps: 0 }
                : { kind: 'cosine', minLr: 0, warmupSteps: 0 };
        if (e.data !== null) {
          c.dataset =
            e.data === 'teacher'
              ? { kind: 'teacher', samples: 512, teacherWidth: 8, noise: 0.1 }
              : e.data === 'spirals'
                ? { kind: 'spirals', samples: 512, turns: 2, noise: 0.05 }
                : e.data === 'sparse'
                  ? { kind: 'sparse', samples: 512, density: 0.1, classes: 4 }
                  : { kind: 'gaussian_mixture', samples: 512, classes: 3, spread: 2 };
          c.outputSize = e.data === 'teacher' ? 1 : e.data === 'spirals' ? 2 : 4 - Number(e.data === 'gaussian_mixture');
          c.loss = e.data === 'teacher' ? 'mse' : 'softmax_ce';
          c.inputSize = Math.max(c.inputSize, 2);
        }
        if (e.snap !== null) c.snapshot.every = e.snap;
        const url = urlWithConfig(c, BASE);
        const back = configFromUrl(new URL(url).search);
        expect(back.error).toBeUndefined();
        expect(back.config).toEqual(c);
        expect(new URL(url).search.length).toBeLessThanOrEqual(toQueryString(c).length + 1);
      }),
      { numRuns: 200 },
    );
  });
});

describe('KIND_PARAMS', () => {
  // The table mirrors the config layer's variant parameters; if serialize.ts gains or moves one, this fails.
  const kindsOf = {
    opt: ['sgd', 'momentum', 'adam', 'adamw'],
    sched: ['constant', 'step', 'cosine'],
    data: ['teacher', 'gaussian_mixture', 'spirals', 'sparse', 'file'],
  };
  const sample: Record<string, string> = { nesterov: '1', file: 'x.npy', loss: 'mse' };
  it('lists every parameter that is rejected under some other kind', () => {
    for (const [kindParam, dependents] of Object.entries(KIND_PARAMS) as [keyof typeof kindsOf, readonly string[]][]) {
      for (const name of dependents.filter((n) => n !== 'out' && n !== 'loss')) {
        const rejectedSomewhere = kindsOf[kindParam].some((kind) => {
          try {
            fromQueryString(`${kindParam}=${kind}&${name}=${sample[name] ?? '0.5'}`);
            return false;
          } catch (e) {
            return String(e).includes(`${name}: applies only with ${kindParam}=`);
          }
        });
        expect(rejectedSomewhere, `${name} under ${kindParam}`).toBe(true);
      }
    }
  });
});
