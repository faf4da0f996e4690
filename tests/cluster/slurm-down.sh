#!/usr/bin/env bash
# Stop what slurm-up.sh started (the packages stay installed; the jobs' state is removed).
set -uo pipefail
scancel --user="$(id -un)" 2>/dev/null
for daemon in slurmd slurmctld; do
    pkill -x "$daemon" && for _ in $(seq 20); do pgrep -x "$daemon" >/dev/null || break; sleep 0.5; done
done
pkill -x munged
rm -rf /var/spool/slurmctld/* /var/spool/slurmd/*
echo "SLURM stopped"
