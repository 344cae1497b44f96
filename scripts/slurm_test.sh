#!/usr/bin/env bash
# End-to-end test of `emo-run plan --slurm` on a real single-node Slurm (Debian's slurmctld,
# slurmd, slurm-client 22.05), started here without systemd or munge and stopped at the end.
#
#   sudo scripts/slurm_test.sh [EMO_RUN]      # default: target/debug/emo-run (built beforehand)
#
# It plans experiments/grids/methods.toml (8 cells, 2 epochs each) as a job array, submits it,
# cancels one task while it runs, checks with `emo-run status` that its cell is interrupted and
# not done, submits the same script again, and checks that every cell then finished exactly
# once, the cancelled one resumed in its own run folder. Needs root (the daemons run as root)
# and, if Slurm is missing, apt. Takes 1-2 minutes on 2 cores. Whatever happens, the trap
# cancels the jobs and stops the daemons it started; the temporary folder is kept on failure.
set -euo pipefail
cd "$(dirname "$0")/.."

EMO=$(realpath "${1:-target/debug/emo-run}")
GRID=experiments/grids/methods.toml
TIMEOUT=${SLURM_TEST_TIMEOUT:-300} # seconds per wait

log() { echo "[$(date -u +%H:%M:%S)] $*"; }
fail() {
  log "FAIL: $*"
  exit 1
}

[ -x "$EMO" ] || fail "no emo-run executable at $EMO; build it first (cargo build)"
[ "$(id -u)" = 0 ] || fail "needs root: slurmd and slurmctld run as root here"

if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v sbatch >/dev/null; then
  log "installing Slurm (slurmctld slurmd slurm-client)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    slurmctld slurmd slurm-client >/dev/null
fi

WORK=$(mktemp -d /tmp/emo-slurm-test.XXXXXX)
mkdir -p "$WORK/state" "$WORK/spool" "$WORK/log"
export SLURM_CONF=$WORK/slurm.conf
CTLD_PID="" SLURMD_PID="" JOBS=()

# The job step daemons our slurmd started (they outlive it): those that inherited our SLURM_CONF.
our_stepds() {
  local pid
  for pid in $(pgrep -x slurmstepd); do
    tr '\0' '\n' 2>/dev/null <"/proc/$pid/environ" | grep -qx "SLURM_CONF=$SLURM_CONF" && echo "$pid"
  done
  return 0
}

# Cancel our jobs, let their steps finish, stop our daemons, then kill whatever of ours is left
# (steps, and task processes, the only ones whose command line names $WORK). $WORK is kept on
# failure.
cleanup() {
  local rc=$?
  trap - EXIT
  set +e
  for job in "${JOBS[@]}"; do scancel "$job" 2>/dev/null; done
  for _ in $(seq 40); do
    [ -z "$(squeue -h 2>/dev/null)" ] && [ -z "$(our_stepds)" ] && break
    sleep 0.5
  done
  for pid in $SLURMD_PID $CTLD_PID; do kill "$pid" 2>/dev/null; done
  for pid in $SLURMD_PID $CTLD_PID; do
    for _ in $(seq 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -9 "$pid" 2>/dev/null
  done
  for pid in $(our_stepds) $(pgrep -f -- "$WORK/"); do kill -9 "$pid" 2>/dev/null; done
  if [ "$rc" = 0 ]; then
    rm -rf "$WORK"
  else
    log "failed (exit $rc); daemons stopped; logs kept in $WORK (log/, array/logs/)"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- a one-node cluster ------------------------------------------------------------------------
HOST=$(hostname -s)
PORT=$((20000 + $$ % 20000)) # two test runs at once do not share a controller
# auth/none needs cred/none in 22.05: without munge there is nothing to sign credentials with.
cat >"$SLURM_CONF" <<EOF
ClusterName=emorun-test
SlurmctldHost=$HOST(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$PORT
SlurmdPort=$((PORT + 1))
AuthType=auth/none
CredType=cred/none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
ReturnToService=2
KillWait=5
StateSaveLocation=$WORK/state
SlurmdSpoolDir=$WORK/spool
SlurmctldPidFile=$WORK/slurmctld.pid
SlurmdPidFile=$WORK/slurmd.pid
SlurmctldLogFile=$WORK/log/slurmctld.log
SlurmdLogFile=$WORK/log/slurmd.log
$(slurmd -C | head -n 1) NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
log "slurm.conf in $WORK"
slurmctld -D -i -f "$SLURM_CONF" >"$WORK/log/slurmctld.out" 2>&1 &
CTLD_PID=$!
slurmd -D -f "$SLURM_CONF" >"$WORK/log/slurmd.out" 2>&1 &
SLURMD_PID=$!

# Poll `condition` (a shell command) every second until it holds; fail after $TIMEOUT seconds.
# `show`, if given, is run every 5 s as the log of the wait.
wait_for() {
  local what=$1 condition=$2 show=${3:-} waited=0
  until eval "$condition"; do
    [ $waited -lt "$TIMEOUT" ] || fail "timed out after ${TIMEOUT}s waiting for $what"
    kill -0 "$CTLD_PID" 2>/dev/null || fail "slurmctld died (see $WORK/log)"
    kill -0 "$SLURMD_PID" 2>/dev/null || fail "slurmd died (see $WORK/log)"
    if [ -n "$show" ] && [ $((waited % 5)) = 0 ]; then eval "$show" | sed 's/^/    /'; fi
    sleep 1
    waited=$((waited + 1))
  done
}
wait_for "the node to be idle" '[ "$(sinfo -h -o %T 2>/dev/null)" = idle ]'
log "node idle:"
sinfo | sed 's/^/    /'

# --- plan and submit ---------------------------------------------------------------------------
ARRAY=$WORK/array
MANIFEST=$ARRAY/manifest.json
log "planning $GRID"
"$EMO" plan "$GRID" --slurm --quiet --set train.epochs=2 --runs-dir "$WORK/runs" \
  --out "$ARRAY" --cpus-per-task 1 --max-parallel 2 --time 0:10:00
grep '^#SBATCH' "$ARRAY/array.sbatch" | sed 's/^/    /'
N=$(grep -c '"identity"' "$MANIFEST")
[ "$N" = 8 ] || fail "the manifest lists $N cells, expected 8"

show_queue() { squeue -h -o '%i %T %M' | tr '\n' ';'; echo; }
# Cells whose state is $1, as "index name run" lines (names and run folders have no spaces).
cells_in() { "$EMO" status "$MANIFEST" | awk -v state="$1" '$2 == state { print $1, $3, $4 }'; }
drained() { [ -z "$(squeue -h -j "$1" 2>/dev/null)" ]; }

submit() {
  local job
  job=$(sbatch --parsable "$ARRAY/array.sbatch")
  JOBS+=("$job")
  echo "$job"
}
JOB1=$(submit)
log "submitted job array $JOB1"

# --- cancel one task while it runs -------------------------------------------------------------
wait_for "a task running its cell" '[ -n "$(cells_in running)" ]' show_queue
read -r VICTIM VICTIM_NAME VICTIM_RUN <<<"$(cells_in running | head -n 1)"
log "cell $VICTIM ($VICTIM_NAME) is running in $VICTIM_RUN"
# Once an epoch is committed, the resume has work to keep (it must not retrain that epoch).
committed() { [ -n "$(find "$VICTIM_RUN/checkpoints" -name state.json 2>/dev/null)" ]; }
wait_for "cell $VICTIM to commit an epoch" committed
log "cell $VICTIM committed $(find "$VICTIM_RUN/checkpoints" -name state.json | wc -l) fold state(s); scancel ${JOB1}_$VICTIM"
scancel "${JOB1}_$VICTIM"
squeue | sed 's/^/    /'
wait_for "job $JOB1 to drain" "drained $JOB1" show_queue
log "job $JOB1 drained; status:"
"$EMO" status "$MANIFEST" | sed 's/^/    /'
STATE=$("$EMO" status "$MANIFEST" | awk -v i="$VICTIM" '$1 == i { print $2 }')
[ "$STATE" = interrupted ] || fail "the cancelled cell $VICTIM is $STATE, expected interrupted"
[ ! -e "$VICTIM_RUN/DONE" ] || fail "the cancelled cell $VICTIM has DONE"

# --- submit again: only the unfinished cell runs ------------------------------------------------
JOB2=$(submit)
log "submitted the same script again: job array $JOB2"
wait_for "job $JOB2 to drain" "drained $JOB2" show_queue
log "job $JOB2 drained; status:"
"$EMO" status "$MANIFEST" | sed 's/^/    /'

# --- every cell finished exactly once ------------------------------------------------------------
[ "$(cells_in done | wc -l)" = 8 ] || fail "not every cell is done"
while read -r index name run; do
  folders=$(find "$WORK/runs/$name" -mindepth 1 -maxdepth 1 -type d | wc -l)
  finished=$(find "$WORK/runs/$name" -mindepth 2 -maxdepth 2 -name DONE | wc -l)
  echo "    cell $index: $folders run folder(s), $finished with DONE"
  [ "$folders" = 1 ] && [ "$finished" = 1 ] || fail "cell $index did not finish exactly once"
  if [ "$index" = "$VICTIM" ]; then
    [ "$run" = "$VICTIM_RUN" ] || fail "cell $index finished in $run, not in its first folder $VICTIM_RUN"
    echo "    cell $index finished in the folder it was cancelled in"
  fi
done < <(cells_in done)
grep -q "resuming an unfinished run" "$ARRAY/logs/${JOB2}_$VICTIM.out" ||
  fail "the log of task ${JOB2}_$VICTIM does not say it resumed"
# The run-level skip only: the resumed task also logs "fold already finished" for a fold that
# completed before the cancel.
SKIPPED=$(grep -l "already finished; skipping" "$ARRAY"/logs/"${JOB2}"_*.out | wc -l)
[ "$SKIPPED" = 7 ] || fail "$SKIPPED tasks of job $JOB2 found their cell finished, expected 7"
log "task ${JOB2}_$VICTIM resumed cell $VICTIM; the other 7 tasks found their cell finished"
log "PASS"
