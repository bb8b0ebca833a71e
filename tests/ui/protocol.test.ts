// The page ↔ worker protocol: commands are checked on arrival (a bad one names its field and limit), events hand
// their buffers over without copies, and the page's own URL parameters and toolbar numbers are validated the same way.
import { describe, expect, it } from 'vitest';
import { parseRunConfig, presetConfig } from '../../src/config';
import { DEFAULT_STEPS_PER_FRAME, parseStepsPerFrameCap, parseToolbarInteger, stepsPerFrameFromUrl, urlWithStepsPerFrame } from '../../src/ui/page-params';
import { MAX_STEPS_PER_FRAME, parseWorkerCommand, transferablesOf, type WorkerEvent } from '../../src/ui/protocol';

const config = parseRunConfig({ ...presetConfig('dropout_only'), steps: 10, snapshot: { every: 5, probeSize: 16 } });

describe('parseWorkerCommand', () => {
  it('accepts every command and returns the config parsed', () => {
    expect(parseWorkerCommand({ type: 'configure', config, snapshotEvery: 10, stepsPerFrame: 1 })).toEqual({
      type: 'configure',
      config,
      snapshotEvery: 10,
      stepsPerFrame: 1,
    });
    for (const type of ['run', 'pause', 'step', 'reset', 'ack', 'resume', 'lose-device']) expect(parseWorkerCommand({ type })).toEqual({ type });
    expect(parseWorkerCommand({ type: 'options', stepsPerFrame: 5 })).toEqual({ type: 'options', stepsPerFrame: 5 });
    // Steps per frame is an optional cap: null lets the worker size chunks by time alone.
    expect(parseWorkerCommand({ type: 'options', stepsPerFrame: null })).toEqual({ type: 'options', stepsPerFrame: null });
    expect(parseWorkerCommand({ type: 'configure', config, snapshotEvery: 10, stepsPerFrame: null })).toMatchObject({ stepsPerFrame: null });
    expect(parseWorkerCommand({ type: 'unit-info', id: 3, layer: 2, unit: 1_048_575 })).toMatchObject({ unit: 1_048_575 });
    expect(parseWorkerCommand({ type: 'order', layer: 1, enabled: false })).toMatchObject({ enabled: false });
    expect(parseWorkerCommand({ type: 'checkpoint', id: 0 })).toMatchObject({ id: 0 });
  });

  it('names the field and the limit of a bad command', () => {
    expect(() => parseWorkerCommand({ type: 'options', snapshotEvery: 0 })).toThrow(/worker command "options": field snapshotEvery: .*>=1/);
    expect(() => parseWorkerCommand({ type: 'options', stepsPerFrame: MAX_STEPS_PER_FRAME + 1 })).toThrow(/field stepsPerFrame: .*<=100000/);
    expect(() => parseWorkerCommand({ type: 'unit-info', id: 1, layer: 1, unit: -1 })).toThrow(/field unit/);
    expect(() => parseWorkerCommand({ type: 'order', layer: 0, enabled: true })).toThrow(/field layer/);
    expect(() => parseWorkerCommand({ type: 'run', extra: 1 })).toThrow(/worker command "run"/);
    expect(() => parseWorkerCommand({ type: 'warp' })).toThrow(/field type/);
    expect(() => parseWorkerCommand(null)).toThrow(/worker command: field \(root\)/);
    expect(() => parseWorkerCommand({ type: 'configure', config: { ...config, lr: -1 }, snapshotEvery: 10, stepsPerFrame: 1 })).toThrow(
      /field config: lr: -1 is not in \(0, 100\]/,
    );
  });
});

describe('transferablesOf', () => {
  it('hands over the snapshot buffer and every timeline column once', () => {
    const buffer = new ArrayBuffer(40);
    const shared = new Uint8Array(6);
    const event: WorkerEvent = {
      type: 'frame',
      rows: [],
      columns: [
        { step: 0, layers: [new Uint8Array(3), shared] },
        { step: 10, layers: [shared] },
      ],
      snapshot: {
        step: 10,
        layers: [
          {
            width: 32,
            dead: new Uint32Array(buffer, 0, 1),
            dropped: new Uint32Array(buffer, 4, 1),
            revived: new Uint32Array(buffer, 8, 1),
            frozen: new Uint32Array(buffer, 12, 1),
            nonFinite: new Uint32Array(buffer, 16, 1),
          },
        ],
        buffer,
      },
      coalesced: 2,
    };
    const list = transferablesOf(event);
    expect(list).toHaveLength(3);
    expect(list[0]).toBe(buffer);
    expect(list).toContain(shared.buffer);
    // What structuredClone does with the list: the sender's buffers are detached, the receiver gets the same bytes.
    new Uint32Array(buffer)[0] = 7;
    const received = structuredClone(event, { transfer: list });
    expect(buffer.byteLength).toBe(0);
    expect(received.type === 'frame' && received.snapshot!.layers[0].dead[0]).toBe(7);
    expect(received.type === 'frame' && received.snapshot!.layers[0].dead.buffer).toBe(received.type === 'frame' && received.snapshot!.buffer);
  });

  it('hands over orders and checkpoints, and nothing for small events', () => {
    const permutation = new Uint32Array(4);
    expect(transferablesOf({ type: 'order', layer: 1, step: 0, permutation })).toEqual([permutation.buffer]);
    const bytes = new Uint8Array(8);
    expect(transferablesOf({ type: 'checkpoint', id: 1, step: 0, bytes })).toEqual([bytes.buffer]);
    expect(transferablesOf({ type: 'error', message: 'x' })).toEqual([]);
  });
});

describe('page parameters', () => {
  it('reads steps per frame from the URL, with a message naming the parameter when it is bad', () => {
    expect(stepsPerFrameFromUrl('')).toEqual({ value: DEFAULT_STEPS_PER_FRAME });
    expect(stepsPerFrameFromUrl('?preset=lr_too_high&spf=250')).toEqual({ value: 250 });
    for (const bad of ['0', '1.5', 'ten', '', String(MAX_STEPS_PER_FRAME + 1)]) {
      const r = stepsPerFrameFromUrl(`?spf=${bad}`);
      expect(r.value).toBe(DEFAULT_STEPS_PER_FRAME);
      expect(r.error).toMatch(/^URL parameter spf: .* is not an integer in \[1, 100000\]/);
    }
  });

  it('writes steps per frame into the URL and keeps the run parameters', () => {
    const url = urlWithStepsPerFrame('http://127.0.0.1:5173/?v=1&preset=lr_too_high', 50);
    expect(url).toBe('http://127.0.0.1:5173/?v=1&preset=lr_too_high&spf=50');
    expect(stepsPerFrameFromUrl(new URL(url).search)).toEqual({ value: 50 });
    expect(urlWithStepsPerFrame(url, DEFAULT_STEPS_PER_FRAME)).toBe('http://127.0.0.1:5173/?v=1&preset=lr_too_high');
  });

  it('checks toolbar numbers', () => {
    expect(parseToolbarInteger(' 25 ', 100, 'snapshot interval')).toEqual({ value: 25 });
    expect(parseToolbarInteger('0', 100, 'snapshot interval').error).toBe('snapshot interval: "0" is not an integer in [1, 100]');
    expect(parseToolbarInteger('101', 100, 'x').error).toMatch(/not an integer in \[1, 100\]/);
    expect(parseToolbarInteger('2.5', 100, 'x').error).toMatch(/not an integer/);
    expect(parseToolbarInteger('', 100, 'x').error).toMatch(/"" is not an integer/);
  });

  it('reads an empty steps-per-frame field as no cap', () => {
    expect(DEFAULT_STEPS_PER_FRAME).toBeNull();
    expect(parseStepsPerFrameCap('  ', 100)).toEqual({ value: null });
    expect(parseStepsPerFrameCap('40', 100)).toEqual({ value: 40 });
    expect(parseStepsPerFrameCap('0', 100).error).toBe('steps per frame: "0" is not an integer in [1, 100]');
  });
});
