# Sourced by the install scripts: `apt_install WHO MESSAGE PACKAGE...` installs Debian packages
# with apt-get, as root or through passwordless sudo. Without either, or without apt-get, it
# prints WHO: MESSAGE and returns 0, so that a machine set up by hand is not an error.
apt_install() {
    local who=$1 message=$2
    shift 2
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
            sudo="sudo -n"
        else
            echo "$who: not root and no sudo; $message" >&2
            return 0
        fi
    fi
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "$who: no apt-get; $message" >&2
        return 0
    fi
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq >/dev/null
    $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
