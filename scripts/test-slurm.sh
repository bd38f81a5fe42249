#!/usr/bin/env bash
# make test-slurm: a sweep on a real one-node Slurm (Debian's slurm-wlm) on
# loopback. Checks that `ticket submit --workers 3` gives the tables of a
# serial `ticket sweep` (summary, layers, overlap byte-identical; runs.csv
# but for wall time), also after one array task is cancelled while it trains
# and the sweep is resubmitted. Stops the daemons it started, by pid, on any exit.
# Needs root (it installs packages and runs the daemons); see shared/SLURM.md.
set -euo pipefail
cd "$(dirname "$0")/.."
TICKET=${TICKET:-.build/release/ticket}
MANIFEST=Benchmarks/sweeps/ci.json
[ "$(id -u)" -eq 0 ] || { echo "error: make test-slurm needs root (installs slurm-wlm and munge, starts their daemons)" >&2; exit 1; }
start=$(date +%s)
log() { echo "test-slurm [$(( $(date +%s) - start ))s]: $*"; }

if ! command -v slurmctld >/dev/null 2>&1 || ! command -v munged >/dev/null 2>&1; then
  log "installing slurm-wlm munge"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
fi

WORK=$(mktemp -d /tmp/ticket-slurm.XXXXXX)
started_pids=()
cleanup() {
  status=$?
  for pid in "${started_pids[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${started_pids[@]}"; do
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  done
  [ $status -eq 0 ] || { log "FAILED (status $status); daemon logs:"; tail -n 20 "$WORK"/log/*.log 2>/dev/null || true; }
  rm -rf "$WORK"
  exit $status
}
trap cleanup EXIT
mkdir -p "$WORK"/{state,spool,run,log}
# Our own config file (SLURM_CONF, read by the daemons and by sbatch/squeue), nothing in /etc touched.
export SLURM_CONF=$WORK/slurm.conf
cat > "$SLURM_CONF" <<CONF
ClusterName=ticketci
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
MailProg=/bin/true
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SwitchType=switch/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MinJobAge=5
CommunicationParameters=NoInAddrAny
StateSaveLocation=$WORK/state
SlurmdSpoolDir=$WORK/spool
SlurmctldPidFile=$WORK/run/slurmctld.pid
SlurmdPidFile=$WORK/run/slurmd.pid
SlurmctldLogFile=$WORK/log/slurmctld.log
SlurmdLogFile=$WORK/log/slurmd.log
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=1000 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF

# munged: reuse one that runs already (not ours to stop), else start our own.
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  install -d -o munge -g munge -m 0755 /run/munge
  rm -f /run/munge/munged.pid
  runuser -u munge -- /usr/sbin/munged --pid-file=/run/munge/munged.pid
  for _ in $(seq 1 50); do [ -s /run/munge/munged.pid ] && break; sleep 0.1; done
  started_pids+=("$(cat /run/munge/munged.pid)")
  munge -n | unmunge >/dev/null
fi
/usr/sbin/slurmctld
for _ in $(seq 1 50); do [ -s "$WORK/run/slurmctld.pid" ] && break; sleep 0.1; done
started_pids+=("$(cat "$WORK/run/slurmctld.pid")")
/usr/sbin/slurmd -N localhost
for _ in $(seq 1 50); do [ -s "$WORK/run/slurmd.pid" ] && break; sleep 0.1; done
started_pids+=("$(cat "$WORK/run/slurmd.pid")")
for _ in $(seq 1 100); do
  sinfo -h -N -n localhost -o %T 2>/dev/null | grep -qE 'idle|mixed|allocated' && break; sleep 0.25
done
sinfo -h -N -n localhost -o %T | grep -qE 'idle|mixed|allocated' || { echo "error: the Slurm node did not come up" >&2; exit 1; }
log "slurm up (daemons ${started_pids[*]}), $(nproc) CPUs"

log "serial sweep"
"$TICKET" sweep "$MANIFEST" --out "$WORK/serial" --threads 1 >/dev/null 2>"$WORK/serial.log"

# submit OUT: ticket submit, prints the worker and report job ids.
submit() {
  "$TICKET" submit "$MANIFEST" --out "$1" --slurm --workers 3 --cpus-per-task 1 --time 0:10:00 > "$WORK/submit.out"
  cat "$WORK/submit.out"
  worker_job=$(sed -n 's/^worker job: \([0-9]*\).*/\1/p' "$WORK/submit.out")
  report_job=$(sed -n 's/^report job: \([0-9]*\).*/\1/p' "$WORK/submit.out")
}
# wait_for JOB: until Slurm no longer lists it (at most 180 s).
wait_for() {
  for _ in $(seq 1 720); do
    [ -z "$(squeue -h -j "$1" 2>/dev/null)" ] && return 0; sleep 0.25
  done
  echo "error: job $1 still queued or running after 180 s" >&2; squeue >&2; exit 1
}
# same_tables DIR: DIR's tables equal the serial sweep's.
same_tables() {
  for table in summary.csv layers.csv overlap.csv; do
    cmp "$WORK/serial/$table" "$1/$table" || { echo "error: $1/$table differs from the serial sweep's" >&2; exit 1; }
  done
  if grep -q '"' "$WORK/serial/runs.csv" "$1/runs.csv"; then echo "error: quoted runs.csv fields; compare by hand" >&2; exit 1; fi
  # runs.csv without wall_seconds (found by its header name).
  strip() { awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "wall_seconds") w = i }
                     { out = ""; for (i = 1; i <= NF; i++) if (i != w) out = out $i ","; print out }' "$1"; }
  diff <(strip "$WORK/serial/runs.csv") <(strip "$1/runs.csv") >/dev/null \
    || { echo "error: $1/runs.csv differs from the serial sweep's beyond wall_seconds" >&2; exit 1; }
  [ "$(wc -l < "$1/runs.csv")" -gt 1 ] || { echo "error: $1/runs.csv has no rows" >&2; exit 1; }
}

log "check 1: ticket submit --workers 3"
submit "$WORK/cluster"
wait_for "$worker_job"; wait_for "$report_job"
cat "$WORK"/cluster/slurm/report-*.log
same_tables "$WORK/cluster"
workers_used=$(grep -l "runs executed" "$WORK"/cluster/slurm/worker-*.log | wc -l)
log "check 1 passed: tables identical to the serial sweep ($workers_used worker logs)"

log "check 2: cancel an array task while it trains, then resubmit"
submit "$WORK/fault"
victim=""
for _ in $(seq 1 400); do
  victim=$("$TICKET" status "$WORK/fault" 2>/dev/null | sed -n "s/^running .*slurm job \(${worker_job}_[0-9]*\).*/\1/p" | head -n 1 || true)
  [ -n "$victim" ] && break; sleep 0.05
done
[ -n "$victim" ] || { echo "error: no array task was seen training" >&2; exit 1; }
scancel "$victim"
log "cancelled task $victim while it trained"
wait_for "$worker_job"; wait_for "$report_job"
task=${victim#*_}
victim_log="$WORK/fault/slurm/worker-${worker_job}_${task}.log"
cat "$victim_log"
grep -q "stopped by a signal" "$victim_log" || { echo "error: the cancelled task did not report its stop" >&2; exit 1; }
"$TICKET" status "$WORK/fault"
submit "$WORK/fault"
wait_for "$worker_job"; wait_for "$report_job"
same_tables "$WORK/fault"
log "check 2 passed: after the cancel and a resubmission the tables are identical to the serial sweep"
log "all checks passed in $(( $(date +%s) - start )) s"
