# shellcheck shell=bash
# restart_sigterm: after SIGTERM and a new start, governord adopts a running workload, which stays governed and is accounted when it ends
# timeout: 200
check_restart_adopts TERM
