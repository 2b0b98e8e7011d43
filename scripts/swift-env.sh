# Sourced (`. scripts/swift-env.sh`) by every script that runs Swift, and by the
# Makefile: the one place that says where the Swift toolchain is.
#
# The rule: `swift` on PATH when there is one, else /opt/swift/usr/bin (where the
# development machines keep it). Exports PATH, SWIFT_BACKTRACE=enable=no (a
# crashing test prints its message, not a minutes-long backtrace), and
# SWIFT_TOOLCHAIN: the toolchain's root directory (the one holding usr/bin/swift,
# such as /opt/swift), empty when no swift is found or when it is the system's
# own (/usr/bin/swift), which tests must not hide.
if ! command -v swift >/dev/null 2>&1 && [ -x /opt/swift/usr/bin/swift ]; then
  PATH="/opt/swift/usr/bin:$PATH"
fi
SWIFT_TOOLCHAIN=""
if swift_env_bin="$(command -v swift 2>/dev/null)"; then
  swift_env_bin="$(readlink -f "$swift_env_bin")"
  swift_env_bin="${swift_env_bin%/bin/swift*}"      # .../usr
  case "$swift_env_bin" in
    */usr) SWIFT_TOOLCHAIN="${swift_env_bin%/usr}" ;;
  esac
  [ "$SWIFT_TOOLCHAIN" != / ] || SWIFT_TOOLCHAIN=""
fi
unset swift_env_bin
export PATH SWIFT_TOOLCHAIN SWIFT_BACKTRACE=enable=no
