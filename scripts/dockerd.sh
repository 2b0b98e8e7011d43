#!/usr/bin/env bash
# The Docker engine of the end-to-end suite (Tests/e2e) and the image it runs.
#
#   scripts/dockerd.sh up      an engine answers: the running one if `docker info`
#                              works ($DOCKER_HOST or /var/run/docker.sock), else
#                              (root only) dockerd started here, waited for (60 s at most)
#   scripts/dockerd.sh down    stops the dockerd that `up` started, and no other;
#                              leaves it running while a session still uses it (below)
#   scripts/dockerd.sh image   builds IMAGE (below) unless it is up to date
#   scripts/dockerd.sh status  says which engine answers and whether `up` started it
#   scripts/dockerd.sh env     prints IMAGE=... and USERS_LOCK=... (for Tests/e2e/engine.py)
#
# Exit status: 0 done; 77 no engine answers and this user cannot start one (not
# root): the suite skips, or fails under CI=true; 1 anything else, with the reason.
#
# The dockerd started here is the machine's engine on the default socket and data
# root (/var/lib/docker), run with its log in build/dockerd/dockerd.log, and
# recorded (its pid file) in $RUN_DIR, which only root can write: the engine
# is machine-wide, so whichever checkout runs `down` last stops it. A session
# that uses the engine holds a shared flock on $RUN_DIR/users.lock from before
# `up` until before `down` (Tests/e2e/engine.py does); `down` stops dockerd only
# when it can take that lock exclusively, i.e. no other session is using it.
#
# How dockerd is started on this machine (docs/development.md, "The end-to-end
# suite"): overlay2 when an overlay mount works on the data root's file system,
# else vfs (overlay on overlay, inside a container); iptables when `iptables -t
# nat -L` works, else --iptables=false (published ports then go through
# docker-proxy alone). PORTMANAGER_DOCKERD_STORAGE and PORTMANAGER_DOCKERD_IPTABLES
# (true|false) override the two choices.
#
# IMAGE is made FROM scratch without a registry or a builder: a root file system
# in a temporary folder (Debian's busybox-static as /bin/busybox, its applets as
# links, Tests/e2e/image/serve as the entry point) imported with `docker import`.
# `serve PORT...` answers HTTP on each port with "HOSTNAME PORT". The image's
# label io.portmanager.e2e.source is a hash of what went in; `image` rebuilds when
# it differs.
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=portmanager-e2e/busybox:1
RUN_DIR=/run/portmanager-e2e
PID_FILE=$RUN_DIR/dockerd.pid
LOG_DIR=build/dockerd
BUSYBOX=/bin/busybox
SERVE=Tests/e2e/image/serve
WAIT_SECONDS=60
SOURCE_LABEL=io.portmanager.e2e.source

say() { echo "dockerd.sh: $*"; }
fail() { echo "dockerd.sh: $*" >&2; exit 1; }

answers() { docker info > /dev/null 2>&1; }

where() { echo "${DOCKER_HOST:-unix:///var/run/docker.sock}"; }

# started_pid: the pid of the live dockerd that `up` started, or nothing.
started_pid() {
  local pid
  [ -f "$PID_FILE" ] && [ ! -L "$PID_FILE" ] || return 0
  pid=$(cat "$PID_FILE")
  [[ "$pid" =~ ^[0-9]+$ ]] || return 0
  [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dockerd ] && echo "$pid"
  return 0
}

storage_driver() {
  if [ -n "${PORTMANAGER_DOCKERD_STORAGE:-}" ]; then echo "$PORTMANAGER_DOCKERD_STORAGE"; return; fi
  local root=/var/lib/docker probe ok=vfs
  mkdir -p "$root"
  probe=$(mktemp -d "$root/overlay-probe.XXXXXX")
  mkdir "$probe/lower" "$probe/upper" "$probe/work" "$probe/merged"
  if mount -t overlay overlay -o "lowerdir=$probe/lower,upperdir=$probe/upper,workdir=$probe/work" \
       "$probe/merged" 2> /dev/null; then
    umount "$probe/merged"
    ok=overlay2
  fi
  rm -rf "$probe"
  echo "$ok"
}

iptables_works() {
  case "${PORTMANAGER_DOCKERD_IPTABLES:-}" in
    true) return 0 ;;
    false) return 1 ;;
  esac
  iptables -t nat -nL > /dev/null 2>&1
}

up() {
  if answers; then
    say "using the engine at $(where) (Docker $(docker version -f '{{.Server.Version}}' 2>/dev/null))"
    return 0
  fi
  if [ -n "${DOCKER_HOST:-}" ]; then
    fail "DOCKER_HOST=$DOCKER_HOST does not answer; unset it to use (or start) the engine on /var/run/docker.sock"
  fi
  if [ "$(id -u)" != 0 ]; then
    echo "dockerd.sh: no Docker engine answers at $(where), and only root can start one" >&2
    exit 77
  fi
  command -v dockerd > /dev/null || fail "dockerd is not installed (scripts/deps.sh test installs Debian's docker.io)"
  install -d -m 755 "$RUN_DIR"
  exec 9> "$RUN_DIR/engine.lock"
  flock 9
  local pid driver options=()
  pid=$(started_pid)
  if [ -z "$pid" ] && ! answers; then
    if pgrep -x dockerd > /dev/null; then
      fail "a dockerd runs (pid $(pgrep -x dockerd | tr '\n' ' ')) but does not answer at $(where); not starting another"
    fi
    driver=$(storage_driver)
    options+=(--storage-driver "$driver")
    if iptables_works; then
      options+=(--iptables=true)
    else
      options+=(--iptables=false --ip6tables=false)
    fi
    mkdir -p "$LOG_DIR"
    say "starting dockerd ${options[*]} (log: $LOG_DIR/dockerd.log)"
    # Its own session: no signal meant for the caller's terminal or process group reaches it.
    setsid dockerd --pidfile "$PID_FILE" "${options[@]}" < /dev/null > "$LOG_DIR/dockerd.log" 2>&1 9>&- &
    pid=$!   # setsid's, which is dockerd's unless setsid had to fork (then the pid file has it)
  fi
  local deadline=$((SECONDS + WAIT_SECONDS))
  until answers; do
    if ! kill -0 "$pid" 2> /dev/null && [ -z "$(started_pid)" ]; then
      tail -n 20 "$LOG_DIR/dockerd.log" >&2 2>/dev/null || true
      fail "dockerd exited before answering (log: $LOG_DIR/dockerd.log)"
    fi
    if [ $SECONDS -ge $deadline ]; then
      tail -n 20 "$LOG_DIR/dockerd.log" >&2 2>/dev/null || true
      kill "$(started_pid)" "$pid" 2> /dev/null || true
      fail "dockerd (pid $pid) did not answer within $WAIT_SECONDS s (log: $LOG_DIR/dockerd.log)"
    fi
    sleep 0.2
  done
  say "dockerd (pid ${pid:-$(started_pid)}) answers at $(where)"
}

down() {
  if [ ! -d "$RUN_DIR" ] || [ "$(id -u)" != 0 ]; then
    say "no dockerd started by dockerd.sh (only root starts one); nothing to stop"
    return 0
  fi
  exec 9> "$RUN_DIR/engine.lock"
  flock 9
  local pid
  pid=$(started_pid)
  if [ -z "$pid" ]; then
    say "no dockerd started by dockerd.sh runs; nothing to stop"
    return 0
  fi
  exec 8> "$RUN_DIR/users.lock"
  if ! flock -n -x 8; then
    say "dockerd (pid $pid) is in use by another session; left running (the last one stops it)"
    return 0
  fi
  say "stopping dockerd (pid $pid)"
  kill -TERM "$pid"
  local deadline=$((SECONDS + 30))
  while kill -0 "$pid" 2> /dev/null; do
    if [ $SECONDS -ge $deadline ]; then
      say "dockerd (pid $pid) still runs after 30 s; killing it"
      kill -KILL "$pid" 2> /dev/null || true
      deadline=$((SECONDS + 30))
    fi
    sleep 0.2
  done
  rm -f "$PID_FILE"
  say "dockerd stopped"
}

status() {
  local pid
  pid=$(started_pid)
  if answers; then say "an engine answers at $(where)"; else say "no engine answers at $(where)"; fi
  if [ -n "$pid" ]; then say "dockerd pid $pid was started by dockerd.sh"; else say "dockerd.sh started no dockerd that runs"; fi
}

image() {
  answers || fail "no Docker engine answers at $(where) (scripts/dockerd.sh up)"
  [ -x "$BUSYBOX" ] || fail "$BUSYBOX is missing (scripts/deps.sh test installs Debian's busybox-static)"
  [ "$(dpkg-query -W -f='${Status}' busybox-static 2> /dev/null)" = 'install ok installed' ] \
    || fail "$BUSYBOX is not Debian's busybox-static (a dynamic busybox cannot run FROM scratch)"
  local source have
  source=$(cat "$BUSYBOX" "$SERVE" | sha256sum | cut -c1-16)
  have=$(docker image inspect -f "{{index .Config.Labels \"$SOURCE_LABEL\"}}" "$IMAGE" 2> /dev/null || true)
  if [ "$have" = "$source" ]; then
    say "$IMAGE is up to date"
    return 0
  fi
  local root applet
  root=$(mktemp -d)
  trap 'rm -rf "$root"' RETURN
  mkdir -p "$root/bin" "$root/tmp"
  chmod 1777 "$root/tmp"
  cp "$BUSYBOX" "$root/bin/busybox"
  for applet in $("$BUSYBOX" --list); do
    [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
  done
  install -m 755 "$SERVE" "$root/bin/serve"
  tar -C "$root" --numeric-owner --owner=0 --group=0 -c . \
    | docker import \
        --change 'ENTRYPOINT ["/bin/serve"]' \
        --change "LABEL $SOURCE_LABEL=$source" \
        --message "portmanager end-to-end image: busybox-static and serve" \
        - "$IMAGE" > /dev/null
  say "built $IMAGE (FROM scratch: busybox-static, /bin/serve)"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  image) image ;;
  status) status ;;
  env) printf 'IMAGE=%s\nUSERS_LOCK=%s\n' "$IMAGE" "$RUN_DIR/users.lock" ;;
  *) echo "usage: scripts/dockerd.sh up|down|image|status|env" >&2; exit 2 ;;
esac
