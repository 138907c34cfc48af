# shellcheck shell=bash
# restart_sigkill: after SIGKILL and a new start, governord adopts a running workload, which stays governed and is accounted when it ends
# timeout: 200
check_restart_adopts KILL
