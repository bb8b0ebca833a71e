#!/usr/bin/env bash
# Measures what the scheduler path costs: the same grid as one local `deadunits sweep` and as the Slurm array that
# `sweep plan --slurm` writes, on a one-node Slurm started here (scripts/slurm-local.sh; root). Both end with
# `sweep collect`; wall times from the first command to the summary. The array runs one task at a time
# (--max-parallel 1), like the local sweep, so the difference is the overhead itself: a process, a device and
# shader compiles per task, and Slurm's scheduling. Then once more with the tasks in parallel (one per CPU).
#
#   sudo bash scripts/slurm-overhead.sh [SHARDS] [STEPS]      (defaults: 6 shards of a 6-point grid, 1000 steps)
set -euo pipefail
cd "$(dirname "$0")/.."
shards=${1:-6}
steps=${2:-1000}
work=$(mktemp -d /tmp/deadunits-overhead-XXXXXX)
chmod 755 "$work"
trap 'bash scripts/slurm-local.sh stop "$work/slurm" >/dev/null; rm -rf "$work"' EXIT
bash scripts/slurm-local.sh start "$work/slurm" >/dev/null
export SLURM_CONF=$work/slurm/slurm.conf
cat >"$work/sweep.json" <<EOF
{ "base": { "inputSize": 4, "hidden": [{ "width": 8, "dropout": 0.5 }, { "width": 6, "dropout": 0.5 }],
    "dataset": { "kind": "gaussian_mixture", "samples": 64, "classes": 3 }, "batchSize": 8, "optimizer": { "kind": "sgd" },
    "snapshot": { "every": 50, "probeSize": 16 } },
  "grid": { "lr": [0.05, 0.3], "hidden[*].activation.kind": ["relu", "leaky_relu", "elu"] }, "steps": $steps }
EOF
deadunits() { node bin/deadunits.mjs "$@"; }

# Waits for a job to leave the queue.
wait_job() {
  while squeue -h -j "$1" 2>/dev/null | grep -q .; do sleep 0.2; done
}

slurm_run() { # $1: name, $2: --max-parallel value or empty
  local out=$work/$1 start end ids
  deadunits sweep plan "$work/sweep.json" --out "$out" --slurm --shards "$shards" --cpus 1 --mem 500M ${2:+--max-parallel $2} >/dev/null
  start=$(date +%s.%N)
  ids=$(bash "$out/slurm/submit.sh")
  wait_job "$(sed -E 's/.*collect job ([0-9]+).*/\1/;q' <<<"$ids")"
  end=$(date +%s.%N)
  grep -q "of 6 points finished" "$out"/logs/collect-*.log
  awk -v a="$start" -v b="$end" 'BEGIN { print b - a }'
}

local_run() {
  local out=$work/local-$1 start end
  start=$(date +%s.%N)
  deadunits sweep "$work/sweep.json" --out "$out" --progress none >/dev/null 2>&1
  deadunits sweep collect "$out" >/dev/null
  end=$(date +%s.%N)
  awk -v a="$start" -v b="$end" 'BEGIN { print b - a }'
}

# A first sweep warms Mesa's shader cache, so that neither side pays the cold compiles.
local_run warm >/dev/null
echo "grid: 6 points x $steps steps; $(nproc) CPUs; Slurm array of $shards tasks"
printf 'local sweep + collect:                      %6.1f s\n' "$(local_run a)"
printf 'Slurm, one task at a time, + collect job:   %6.1f s\n' "$(slurm_run serial 1)"
printf 'local sweep + collect (again):              %6.1f s\n' "$(local_run b)"
printf 'Slurm, tasks in parallel, + collect job:    %6.1f s\n' "$(slurm_run parallel '')"
