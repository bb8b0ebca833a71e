#!/usr/bin/env bash
# A real single-node Slurm cluster on this machine, for the scheduler tests (tests/cluster) and for trying
# `deadunits sweep plan --slurm` by hand. Debian's slurm-wlm and munge; needs root (the daemons run as root here).
#
#   bash scripts/slurm-local.sh install        apt-get install slurm-wlm munge (once per machine)
#   bash scripts/slurm-local.sh start DIR      configure in DIR, start munged, slurmctld and slurmd; wait for the node
#   bash scripts/slurm-local.sh stop DIR       stop the three daemons by the PIDs recorded in DIR
#
# Everything lives in DIR (config, keys, sockets, state, logs, PID files): nothing in /etc is touched, and a
# munged or Slurm already running on the machine is left alone (other ports, another munge socket). After
# `start`, point the Slurm commands at the cluster with: export SLURM_CONF=DIR/slurm.conf
# Ports: SLURM_LOCAL_PORT (slurmctld, default 6917) and the next one (slurmd).
set -euo pipefail

usage() {
  echo "usage: $0 install | start DIR | stop DIR" >&2
  exit 2
}

need_root() {
  if [ "$(id -u)" != 0 ]; then
    echo "$0: the Slurm daemons need root (run as root, e.g. in CI, or with sudo)" >&2
    exit 3
  fi
}

install() {
  need_root
  if command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v munged >/dev/null && command -v sbatch >/dev/null; then
    echo "slurm-wlm and munge are installed"
    return
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
  echo "installed slurm-wlm and munge"
}

# Waits until `$1` (a command) succeeds, at most $2 seconds; prints $3 and the log $4 on failure.
wait_for() {
  local deadline=$((SECONDS + $2))
  until eval "$1" >/dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ]; then
      echo "$0: $3 (after $2 s); last lines of $4:" >&2
      tail -n 20 "$4" >&2 || true
      return 1
    fi
    sleep 0.5
  done
}

start() {
  need_root
  local dir=$1
  for tool in munged slurmctld slurmd sinfo; do
    command -v $tool >/dev/null || {
      echo "$0: $tool not found: run \`bash $0 install\` first" >&2
      exit 3
    }
  done
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if [ -f "$dir/slurmctld.pid" ] && kill -0 "$(cat "$dir/slurmctld.pid")" 2>/dev/null; then
    echo "$0: a cluster already runs from $dir (stop it first)" >&2
    exit 1
  fi
  local port=${SLURM_LOCAL_PORT:-6917}
  local host
  host=$(hostname -s)
  mkdir -p "$dir/munge" "$dir/state" "$dir/spool" "$dir/log"

  # munge: its own key, socket and files, owned by the munge user (munged refuses group- or world-writable paths).
  chmod 755 "$dir"
  if ! runuser -u munge -- test -x "$dir"; then
    echo "$0: the munge user cannot reach $dir: every folder above it needs search permission for others (chmod o+x)" >&2
    exit 1
  fi
  dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
  chown -R munge:munge "$dir/munge"
  # The socket's folder must be reachable by the Slurm daemons and job steps (munged checks: execute for all).
  chmod 711 "$dir/munge"
  chmod 400 "$dir/munge/munge.key"
  local socket=$dir/munge/munge.socket
  runuser -u munge -- munged --key-file="$dir/munge/munge.key" --socket="$socket" \
    --pid-file="$dir/munge/munged.pid" --log-file="$dir/munge/munged.log" --seed-file="$dir/munge/munged.seed"
  wait_for "test -S '$socket'" 10 "munged did not start" "$dir/munge/munged.log"
  cp "$dir/munge/munged.pid" "$dir/munged.pid"

  cat >"$dir/slurm.conf" <<EOF
# Written by scripts/slurm-local.sh: a one-node cluster for tests.
ClusterName=deadunits-local
SlurmctldHost=$host
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$socket
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
# The node as configured here, whatever the hardware reports (containers often show the host's CPUs).
SlurmdParameters=config_overrides
ReturnToService=2
# Finished jobs stay known long enough to be requeued by hand (scontrol requeue) in the tests.
MinJobAge=3600
JobRequeue=1
MailProg=/bin/true
NodeName=$host CPUs=$(nproc) RealMemory=2000 State=UNKNOWN
PartitionName=local Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
  export SLURM_CONF=$dir/slurm.conf
  slurmctld
  wait_for "scontrol ping | grep -q UP" 30 "slurmctld did not come up" "$dir/log/slurmctld.log"
  slurmd
  wait_for "test -s '$dir/slurmd.pid'" 30 "slurmd did not start" "$dir/log/slurmd.log"
  wait_for "sinfo -h -N -o %t | grep -qx idle" 60 "the node did not become idle" "$dir/log/slurmd.log"
  echo "Slurm runs: node $host ($(nproc) CPUs), partition local; export SLURM_CONF=$dir/slurm.conf"
}

stop() {
  local dir=$1
  local name pid
  # slurmd first (it reports to slurmctld), munged last (both authenticate through it).
  for name in slurmd slurmctld munged; do
    [ -f "$dir/$name.pid" ] || continue
    pid=$(cat "$dir/$name.pid")
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid"
      for _ in $(seq 1 40); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.25
      done
      kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$dir/$name.pid"
  done
  echo "Slurm stopped ($dir)"
}

case "${1:-}" in
  install) install ;;
  start) [ $# -eq 2 ] || usage; start "$2" ;;
  stop) [ $# -eq 2 ] || usage; stop "$2" ;;
  *) usage ;;
esac
