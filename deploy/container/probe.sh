#!/bin/bash
# HTTP health probe for container runtimes without an HTTP client in the image (compose, podman, docker).
#
#   tierguard-probe [PATH]      PATH defaults to /readyz; exits 0 on an HTTP 200, 1 otherwise
#
# The runtime image carries no curl or wget (only libcurl for the notifier), so this speaks HTTP/1.0 over bash's
# /dev/tcp to 127.0.0.1:$TIERGUARD_HTTP_PORT (8080 when unset), with a 3 s deadline. Kubernetes does not use it:
# its kubelet probes the same paths with httpGet.
set -euo pipefail

path=${1:-/readyz}
port=${TIERGUARD_HTTP_PORT:-8080}

exec 3<>"/dev/tcp/127.0.0.1/$port"
printf 'GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n' "$path" >&3
IFS= read -r -t 3 status <&3
# Read to the end (the server closes after an HTTP/1.0 answer) so our close is not a reset to the server.
while IFS= read -r -t 3 _ <&3; do :; done
exec 3<&-
case "$status" in
  "HTTP/1."[01]" 200 "*) exit 0 ;;
  *) echo "probe: $path answered: ${status%$'\r'}" >&2; exit 1 ;;
esac
