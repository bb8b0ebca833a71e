// `sweep plan --k8s`: a Kubernetes Indexed Job with one completion per shard, and the collect step as a second Job
// to apply once the first is complete (Kubernetes has no dependencies between Jobs). Two files in the plan folder:
//
//   job.json      a List: the ConfigMap holding the sweep's spec, and the Indexed Job; each pod runs
//                 `deadunits sweep /etc/deadunits/sweep.json --out OUT --shard auto`, OUT on a shared volume (a
//                 ReadWriteMany PersistentVolumeClaim)
//   collect.json  a Job running `deadunits sweep collect OUT`
//
// JSON is YAML: `kubectl apply -f` takes either. The objects are typed with the kubernetes-models package (types
// only: nothing of it runs here) and validated against the Kubernetes schema in the tests.
//
// Retries: each index is retried up to `retries` times (backoffLimitPerIndex) in a new pod, which resumes the
// shard's unfinished points from their checkpoints. A pod evicted or preempted (condition DisruptionTarget) is
// retried without counting; bad input (exit status 2) fails its index at once instead of failing again. A
// replacement pod starts only once the previous one has stopped (podReplacementPolicy: Failed), and the run
// folders' locks keep two pods from writing one point in any case.
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { IJob } from 'kubernetes-models/batch/v1/Job';
import type { PlanFile, PlannedRun } from './plan';
import { SHARD_COUNT_VAR } from './shard-env';

export interface K8sOptions {
  /** The container image (built from the repository's Dockerfile: its entrypoint is `deadunits`). */
  image: string;
  /** The PersistentVolumeClaim holding the sweep folder, mounted at `mountPath` in every pod. */
  claim: string;
  mountPath: string;
  /** The spec file's text (sweep.json), shipped in a ConfigMap. */
  specText: string;
  /** Pods running at once (default: all shards). */
  parallelism: number;
  /** Retries of each index (backoffLimitPerIndex). */
  retries: number;
  /** CPU request, e.g. "2" or "500m". */
  cpu?: string;
  /** Memory request and limit, e.g. "8Gi". */
  memory?: string;
  /** GPUs per pod (the nvidia.com/gpu resource); none when 0. */
  gpus: number;
}

export const SPEC_MOUNT = '/etc/deadunits';
const SPEC_FILE = 'sweep.json';
/** Exit status of deadunits for bad input: retrying cannot help. */
const EXIT_USAGE = 2;
/** Time a pod gets between SIGTERM and SIGKILL: the sweep finishes its chunk and writes a checkpoint. */
export const GRACE_SECONDS = 180;

type Container = NonNullable<NonNullable<NonNullable<IJob['spec']>['template']['spec']>['containers']>[number];
type Volume = NonNullable<NonNullable<NonNullable<IJob['spec']>['template']['spec']>['volumes']>[number];

function labels(run: PlannedRun, role: 'sweep' | 'collect'): Record<string, string> {
  return { 'app.kubernetes.io/name': 'deadunits', 'app.kubernetes.io/instance': run.name, 'app.kubernetes.io/component': role };
}

function resources(options: K8sOptions): Container['resources'] {
  const requests: Record<string, string> = {};
  const limits: Record<string, string> = {};
  if (options.cpu) requests.cpu = options.cpu;
  if (options.memory) requests.memory = limits.memory = options.memory;
  // Extended resources are requested through limits (requests default to them).
  if (options.gpus > 0) limits['nvidia.com/gpu'] = String(options.gpus);
  return { ...(Object.keys(requests).length ? { requests } : {}), ...(Object.keys(limits).length ? { limits } : {}) };
}

const sweepVolume = (options: K8sOptions): Volume => ({ name: 'sweeps', persistentVolumeClaim: { claimName: options.claim } });
const sweepMount = (options: K8sOptions) => ({ name: 'sweeps', mountPath: options.mountPath });

export function specConfigMap(run: PlannedRun, options: K8sOptions): IConfigMap {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `${run.name}-spec`, labels: labels(run, 'sweep') }, data: { [SPEC_FILE]: options.specText } };
}

export function sweepJob(run: PlannedRun, options: K8sOptions): IJob {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: run.name, labels: labels(run, 'sweep') },
    spec: {
      completionMode: 'Indexed',
      completions: run.shards,
      parallelism: options.parallelism,
      backoffLimitPerIndex: options.retries,
      podReplacementPolicy: 'Failed',
      podFailurePolicy: {
        rules: [
          { action: 'FailIndex', onExitCodes: { containerName: 'sweep', operator: 'In', values: [EXIT_USAGE] } },
          { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] },
        ],
      },
      template: {
        metadata: { labels: labels(run, 'sweep') },
        spec: {
          restartPolicy: 'Never',
          terminationGracePeriodSeconds: GRACE_SECONDS,
          containers: [
            {
              name: 'sweep',
              image: options.image,
              args: ['sweep', `${SPEC_MOUNT}/${SPEC_FILE}`, '--out', run.outDir, '--shard', 'auto', ...run.sweepArgs],
              // Kubernetes sets JOB_COMPLETION_INDEX in every pod of an Indexed Job, but nothing says how many there are.
              env: [{ name: SHARD_COUNT_VAR, value: String(run.shards) }],
              resources: resources(options),
              volumeMounts: [sweepMount(options), { name: 'spec', mountPath: SPEC_MOUNT, readOnly: true }],
            },
          ],
          volumes: [sweepVolume(options), { name: 'spec', configMap: { name: `${run.name}-spec` } }],
        },
      },
    },
  };
}

export function collectJob(run: PlannedRun, options: K8sOptions): IJob {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: `${run.name}-collect`, labels: labels(run, 'collect') },
    spec: {
      backoffLimit: 1,
      template: {
        metadata: { labels: labels(run, 'collect') },
        spec: {
          restartPolicy: 'Never',
          containers: [
            {
              name: 'collect',
              image: options.image,
              args: ['sweep', 'collect', run.outDir],
              resources: { requests: { cpu: '1', memory: '1Gi' }, limits: { memory: '1Gi' } },
              volumeMounts: [sweepMount(options)],
            },
          ],
          volumes: [sweepVolume(options)],
        },
      },
    },
  };
}

const json = (value: unknown) => JSON.stringify(value, null, 2) + '\n';

export function k8sPlanFiles(run: PlannedRun, options: K8sOptions): PlanFile[] {
  return [
    { name: 'job.json', text: json({ apiVersion: 'v1', kind: 'List', items: [specConfigMap(run, options), sweepJob(run, options)] }) },
    { name: 'collect.json', text: json(collectJob(run, options)) },
  ];
}
