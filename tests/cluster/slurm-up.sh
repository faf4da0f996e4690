#!/usr/bin/env bash
# A real SLURM on this one machine, for `make test-cluster`: Debian's slurm-wlm and munge, one node
# (controller and compute daemon on localhost) with a `cpu` (default) and a `gpu` partition; no GPU
# gres, so CPU jobs run in either. Needs root (apt, daemons). Undo with slurm-down.sh.
#
# No accounting database (slurmdbd) is set up, so `sacct` cannot answer here: the test profile has the
# Snakemake executor ask `squeue` instead, and MinJobAge keeps finished jobs visible to it for an hour.
set -euo pipefail
[[ $(id -u) == 0 ]] || { echo "slurm-up.sh: run as root (it installs packages and starts daemons)" >&2; exit 1; }

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null
fi

host=$(hostname -s)
cpus=$(nproc)
# what slurmd itself reports, less a margin for the daemons
mem=$(( $(awk '/MemTotal/ {print int($2 / 1024)}' /proc/meminfo) - 1024 ))
mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm /run/munge
cat > /etc/slurm/slurm.conf <<CONF
# written by tests/cluster/slurm-up.sh: one node, for the osteolib cluster test
ClusterName=osteolib-test
SlurmctldHost=${host}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
SchedulerType=sched/backfill
ReturnToService=2
MinJobAge=3600
KillWait=10
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
NodeName=${host} CPUs=${cpus} RealMemory=${mem} State=UNKNOWN
PartitionName=cpu Nodes=${host} Default=YES MaxTime=INFINITE State=UP
PartitionName=gpu Nodes=${host} MaxTime=INFINITE State=UP
CONF
# no cgroup.conf: slurmd 22.05 then loads cgroup/v1 or v2 as the machine has it (task/none and
# proctrack/linuxproc use neither; "CgroupPlugin=disabled" exists only from 23.02 on)

chown -R munge:munge /etc/munge /run/munge /var/lib/munge /var/log/munge 2>/dev/null || true
pgrep -x munged >/dev/null || runuser -u munge -- /usr/sbin/munged
munge -n | unmunge >/dev/null    # munge works
pgrep -x slurmctld >/dev/null || /usr/sbin/slurmctld
pgrep -x slurmd >/dev/null || /usr/sbin/slurmd

for _ in $(seq 60); do
    state=$(sinfo -h -N -o %T 2>/dev/null | head -1 || true)
    if [[ $state == idle* || $state == mixed* ]]; then
        sinfo
        exit 0
    fi
    sleep 1
done
echo "slurm-up.sh: the node did not become idle in 60 s (state: ${state:-none}); see /var/log/slurm/" >&2
tail -20 /var/log/slurm/slurmctld.log /var/log/slurm/slurmd.log >&2 || true
exit 1
