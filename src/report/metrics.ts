// One row of run metrics per observatory snapshot: the shape shared by the CLI's metrics.jsonl / metrics.csv,
// the UI's charts and its CSV export, so a run watched in the browser and one run headless read the same.
// Browser-safe (no Node imports).
import { z } from 'zod';
import type { Snapshot } from '../engine/observatory';

export interface LayerMetrics {
  width: number;
  /** Units dead at this snapshot. */
  dead: number;
  /** Units dropped for probe sample 0 at the snapshot's last step. */
  dropped: number;
  /** Units alive now that were dead at an earlier snapshot. */
  revived: number;
  /** Units dead at this or any earlier snapshot. */
  everDead: number;
  /**
   * Units frozen: no training batch row gave them z > 0 over the last W steps (exactly zero gradient). Absent in
   * rows written before the frozen statistic existed.
   */
  frozen?: number;
  /** Units with a NaN or ±Inf pre-activation (never counted dead or frozen). Absent in older rows. */
  nonFinite?: number;
}

export interface MetricsRow {
  /** Training steps completed when the snapshot was taken (0: before the first step). */
  step: number;
  /** Wall time since the run (or the resumed run) started. */
  elapsedSeconds: number;
  /** Mean loss of the steps since the previous snapshot; null when there were none (step 0). */
  loss: number | null;
  /** Throughput over the interval that ended with this snapshot; null when unknown. */
  stepsPerSecond: number | null;
  /** Snapshots skipped so far because the reader was slow (see Snapshot.skipped). */
  skipped: number;
  /** Hidden layers, first to last. */
  layers: LayerMetrics[];
}

/** Mean of the interval's per-step losses; NaN or Infinity stays visible (a diverged run must not look fine). */
function meanLoss(losses: Float32Array): number | null {
  if (losses.length === 0) return null;
  let sum = 0;
  for (const v of losses) sum += v;
  return sum / losses.length;
}

export function metricsFromSnapshot(snapshot: Snapshot, timing: { elapsedSeconds: number; stepsPerSecond: number | null }): MetricsRow {
  return {
    step: snapshot.step,
    elapsedSeconds: timing.elapsedSeconds,
    loss: meanLoss(snapshot.losses),
    stepsPerSecond: timing.stepsPerSecond,
    skipped: snapshot.skipped,
    layers: snapshot.layers.map(({ width, counts }) => ({
      width,
      dead: counts.dead,
      dropped: counts.dropped,
      revived: counts.revived,
      everDead: counts.everDead,
      frozen: counts.frozen,
      nonFinite: counts.nonFinite,
    })),
  };
}

// JSON cannot hold NaN or ±Infinity: a non-finite loss is written as the string "NaN", "Infinity" or "-Infinity".
const NON_FINITE = ['NaN', 'Infinity', '-Infinity'] as const;

function encodeNumber(v: number | null): number | string | null {
  return v === null || Number.isFinite(v) ? v : String(v);
}

const count = z.number().int().min(0);
const lossValue = z.union([z.number(), z.enum(NON_FINITE).transform(Number), z.null()]);

const MetricsRowSchema = z.strictObject({
  step: count,
  elapsedSeconds: z.number().min(0),
  loss: lossValue,
  stepsPerSecond: z.number().min(0).nullable(),
  skipped: count,
  layers: z.array(
    z.strictObject({
      width: count.min(1),
      dead: count,
      dropped: count,
      revived: count,
      everDead: count,
      frozen: count.optional(),
      nonFinite: count.optional(),
    }),
  ),
});

export function metricsToJsonLine(row: MetricsRow): string {
  return JSON.stringify({ ...row, loss: encodeNumber(row.loss) });
}

/** Parses one line of metrics.jsonl; throws an Error naming the field and the value when it is malformed. */
export function metricsFromJsonLine(line: string): MetricsRow {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    throw new Error(`metrics line is not JSON: ${(error as Error).message}`);
  }
  const parsed = MetricsRowSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`metrics line: field ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  for (const [l, layer] of parsed.data.layers.entries()) {
    for (const key of ['dead', 'dropped', 'revived', 'everDead', 'frozen', 'nonFinite'] as const) {
      if ((layer[key] ?? 0) > layer.width) throw new Error(`metrics line: field layers.${l}.${key}: ${layer[key]} exceeds the layer width ${layer.width}`);
    }
  }
  return parsed.data;
}

const LAYER_COLUMNS = ['width', 'dead', 'dropped', 'revived', 'ever_dead', 'frozen', 'non_finite'] as const;

/**
 * step,elapsed_s,loss,steps_per_s,skipped, then per hidden layer l: Ll_width,Ll_dead,Ll_dropped,Ll_revived,Ll_ever_dead,
 * Ll_frozen,Ll_non_finite (dead = dead on the probe set; frozen and non-finite cells empty for rows from older runs).
 */
export function metricsCsvHeader(layerCount: number): string {
  const layers = Array.from({ length: layerCount }, (_, i) => LAYER_COLUMNS.map((c) => `L${i + 1}_${c}`).join(','));
  return ['step', 'elapsed_s', 'loss', 'steps_per_s', 'skipped', ...layers].join(',');
}

/** Empty cells for unknown values; NaN / Infinity as those words (spreadsheets and pandas read them). */
function cell(v: number | null, digits?: number): string {
  if (v === null) return '';
  if (!Number.isFinite(v) || digits === undefined) return String(v);
  return String(Number(v.toFixed(digits)));
}

export function metricsToCsvLine(row: MetricsRow): string {
  const layers = row.layers.map((l) => [l.width, l.dead, l.dropped, l.revived, l.everDead, l.frozen ?? '', l.nonFinite ?? ''].join(','));
  return [row.step, cell(row.elapsedSeconds, 3), cell(row.loss), cell(row.stepsPerSecond, 3), row.skipped, ...layers].join(',');
}

export function metricsToCsv(rows: readonly MetricsRow[]): string {
  const layerCount = rows.length ? rows[0].layers.length : 0;
  return [metricsCsvHeader(layerCount), ...rows.map(metricsToCsvLine)].join('\n') + '\n';
}
