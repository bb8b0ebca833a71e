// bench.html: runs the benchmark suite (bench/suite.ts) on this browser's WebGPU adapter, shows each case
// as it finishes (table, ratio chart, progress), offers the result JSON to download or copy, and compares
// two result files. For scripted runs the page reports its state in <html data-bench-state="...">
// (ready, running, done, error) and the result in #json.
import { acquireBrowserGpu, type GpuContext } from '../../src/gpu/device';
import { IndexedDbTuningStore } from '../../src/gpu/tuning/idb-store';
import { compareResults } from '../compare';
import { adapterLine } from '../report';
import {
  BENCH_GROUPS,
  benchResultFromJson,
  benchResultToJson,
  resultFileName,
  type BenchGroup,
  type BenchResult,
  type CaseResult,
  type Ratio,
} from '../schema';
import { runSuite } from '../suite';
import type { Tf } from '../tfjs-mlp';
import { RatioChart } from './chart';
import { parsePageParams } from './params';
import { renderCases, renderComparison, renderRatios } from './tables';
import benchCss from './bench.css?inline';
import { adoptStyles } from './styles';
import { loadTfjsBrowser } from './tfjs-browser';

adoptStyles(benchCss);

const $ = <T extends HTMLElement>(id: string) => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`bench.html has no #${id}`);
  return el as T;
};

type PageState = 'starting' | 'ready' | 'running' | 'done' | 'error';
const setState = (state: PageState) => (document.documentElement.dataset.benchState = state);

function setStatus(text: string, isError = false): void {
  const status = $('status');
  status.textContent = text;
  status.classList.toggle('error', isError);
}

const errorText = (error: unknown) => (error instanceof Error ? `${error.name === 'Error' ? '' : `${error.name}: `}${error.message}` : String(error));

class BenchPage {
  private gpu: GpuContext | null = null;
  private tf: Tf | null = null;
  private result: BenchResult | null = null;
  /** ?cases= and ?candidates= (no form controls: scripted runs narrow the suite with them). */
  private selection: { cases?: string[]; matmulCandidates?: string[] } = {};
  private readonly chart = new RatioChart($('chart'));
  private readonly form = $<HTMLFormElement>('controls');

  async start(): Promise<void> {
    setState('starting');
    this.wireCompare();
    $('download').addEventListener('click', () => this.download());
    $('copy').addEventListener('click', () => void this.copy());
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.run();
    });

    let params;
    try {
      params = parsePageParams(location.search);
    } catch (error) {
      this.fail(error);
      return;
    }
    for (const box of this.form.querySelectorAll<HTMLInputElement>('input[name=group]')) box.checked = params.groups.includes(box.value as BenchGroup);
    this.checkbox('quick').checked = params.quick;
    this.checkbox('tfjs').checked = params.tfjs;
    this.selection = { cases: params.cases, matmulCandidates: params.candidates };

    try {
      this.gpu = await acquireBrowserGpu({ kernels: { matmul: params.kernels, store: new IndexedDbTuningStore() } });
    } catch (error) {
      $('adapter').textContent = 'No WebGPU adapter.';
      this.fail(error);
      return;
    }
    const a = this.gpu.adapter;
    const name = [a.vendor, a.architecture, a.device || a.description].filter(Boolean).join(' / ') || 'unnamed';
    $('adapter').textContent =
      `Adapter: ${name}${a.isSoftware ? ' — software adapter (100-1000× slower than a GPU)' : ''}; ${this.gpu.hasTimestamps ? 'GPU timestamps' : 'no timestamp-query: wall-clock timing'}.`;
    this.gpu.onLost((info) => this.fail(new Error(`the GPU device was lost (${info.reason}): ${info.message}`)));
    $<HTMLButtonElement>('run').disabled = false;
    setState('ready');
    setStatus('Ready.');
    if (params.autorun) await this.run();
  }

  private checkbox(name: string): HTMLInputElement {
    return this.form.querySelector<HTMLInputElement>(`input[name=${name}]`)!;
  }

  private async run(): Promise<void> {
    const gpu = this.gpu;
    if (!gpu) return;
    const groups = [...this.form.querySelectorAll<HTMLInputElement>('input[name=group]')].filter((b) => b.checked).map((b) => b.value as BenchGroup);
    if (groups.length === 0) {
      setStatus(`Choose at least one group of cases (${BENCH_GROUPS.join(', ')}).`, true);
      return;
    }
    this.setControls(false);
    setState('running');
    const cases: CaseResult[] = [];
    const ratios: Ratio[] = [];
    this.showResult(null);
    renderCases($('cases'), cases);
    renderRatios($('ratios'), ratios);
    try {
      let tfUnavailable = 'unchecked on the page';
      if (this.checkbox('tfjs').checked && !this.tf) {
        setStatus('Loading TensorFlow.js…');
        try {
          this.tf = await loadTfjsBrowser();
        } catch (error) {
          tfUnavailable = `could not load TF.js's WebGPU backend: ${errorText(error)}`;
        }
      }
      const tf = this.checkbox('tfjs').checked ? this.tf : null;
      const progress = $<HTMLProgressElement>('progress');
      const started = performance.now();
      const result = await runSuite(
        gpu,
        { host: 'browser', userAgent: navigator.userAgent },
        {
          quick: this.checkbox('quick').checked,
          groups,
          ...this.selection,
          tf,
          tfUnavailable,
          onProgress: ({ done, total, label }) => {
            progress.max = total;
            progress.value = done;
            const elapsed = ((performance.now() - started) / 1000).toFixed(0);
            setStatus(done < total ? `[${done + 1}/${total}] ${label}… (${elapsed} s)` : `Done in ${elapsed} s.`);
          },
          onCases: (newCases, newRatios) => {
            cases.push(...newCases);
            ratios.push(...newRatios);
            renderCases($('cases'), cases);
            renderRatios($('ratios'), ratios);
            this.chart.update(ratios);
          },
        },
      );
      this.showResult(result);
      setState('done');
    } catch (error) {
      this.fail(error);
    } finally {
      this.setControls(true);
    }
  }

  private setControls(enabled: boolean): void {
    for (const el of this.form.querySelectorAll<HTMLInputElement | HTMLButtonElement>('input, button')) el.disabled = !enabled;
  }

  private showResult(result: BenchResult | null): void {
    this.result = result;
    $<HTMLTextAreaElement>('json').value = result ? benchResultToJson(result) : '';
    $<HTMLButtonElement>('download').disabled = !result;
    $<HTMLButtonElement>('copy').disabled = !result;
    // One note per line (white-space: pre-line in bench.css).
    $('notes').textContent = result ? [...result.notes, ...(result.quick ? ['Quick run: tiny shapes, not a measurement.'] : [])].join('\n') : '';
  }

  private download(): void {
    if (!this.result) return;
    const url = URL.createObjectURL(new Blob([benchResultToJson(this.result)], { type: 'application/json' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = resultFileName(this.result);
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }

  private async copy(): Promise<void> {
    const json = $<HTMLTextAreaElement>('json');
    try {
      await navigator.clipboard.writeText(json.value);
      setStatus('Result JSON copied to the clipboard.');
    } catch {
      // Clipboard API refused (permissions, insecure context): leave the text selected for Ctrl+C.
      json.select();
      setStatus('The clipboard is not available here: the JSON is selected below, press Ctrl+C / ⌘C.');
    }
  }

  private wireCompare(): void {
    const inputs = [$<HTMLInputElement>('file-a'), $<HTMLInputElement>('file-b')];
    const status = $('compare-status');
    const update = async () => {
      const files = inputs.map((i) => i.files?.[0]);
      if (!files[0] || !files[1]) {
        status.textContent = 'Choose both files.';
        return;
      }
      try {
        const [a, b] = await Promise.all(files.map(async (f) => benchResultFromJson(await f!.text(), f!.name)));
        const comparison = compareResults(a, b);
        status.textContent = [`A: ${adapterLine(a)}`, `B: ${adapterLine(b)}`, ...comparison.warnings.map((w) => `Warning: ${w}`)].join(' — ');
        status.classList.remove('error');
        renderComparison($('compare'), comparison);
      } catch (error) {
        status.textContent = errorText(error);
        status.classList.add('error');
        $('compare').replaceChildren();
      }
    };
    for (const input of inputs) input.addEventListener('change', () => void update());
  }

  private fail(error: unknown): void {
    console.error(error);
    setStatus(errorText(error), true);
    setState('error');
  }
}

void new BenchPage().start();
