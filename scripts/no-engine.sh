# Sourced by the suites that test the library without Docker (scripts/test-c.sh,
# test-cli.sh, test-python.sh, test-go.sh): they must not see the machine's Docker
# engine, whose containers (another checkout's end-to-end tests make some with the
# registry's names) would change what `reserve` and `status` answer. $DOCKER_HOST
# names a socket that does not exist, so every reservation call goes on as without
# Docker; a test that wants an engine starts a fake one (Tests/cli/fake_docker.py)
# and names it itself, and Tests/e2e uses the real one.
export DOCKER_HOST=unix:///nonexistent/portmanager-tests/docker.sock
