"""
pid 1 of a container that never reaps orphans: it runs its arguments as a
command, waits for that one child only (waitpid on its pid) and exits with
its status. Every other process that ends up its child (a daemon whose
parent exited, like the mcp_audit broker) stays a zombie after it exits.
Used by tests/e2e/broker_processes.test.ts under
`unshare --pid --fork --mount-proc`, where this program is pid 1.
"""
import subprocess
import sys

sys.exit(subprocess.Popen(sys.argv[1:]).wait())
