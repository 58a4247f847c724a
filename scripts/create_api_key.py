#!/usr/bin/env python3
"""Create a Knify API key on a self-hosted server (the command Knify's authentication docs show).

    python scripts/create_api_key.py --name "Production API Key" --workspace ws_abc123 \
        [--permissions jobs:create,jobs:read] [--type live|test] [--rate-limit N] [--expires-at ISO]

Prints {"key_id", "api_key", "name", "workspace_id", "created_at", ...} as JSON. The secret is shown once.
It acts on the store the server uses: KNIFY_DATA_DIR (default ./data) or KNIFY_DATABASE; where no store
exists yet it refuses (the key would not be the server's) unless --init is given.
Standard library only; the work is done by `knify-server keys create`, so both stay identical.
"""
import argparse
import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLI = os.path.join(ROOT, "server", "bin", "knify-server.mjs")


def main() -> int:
    parser = argparse.ArgumentParser(description="Create a Knify API key (the secret is printed once).")
    parser.add_argument("--name", required=True, help='a name for the key, e.g. "Production API Key"')
    parser.add_argument("--workspace", help="limit the key to this workspace id, e.g. ws_abc123")
    parser.add_argument("--permissions", help="comma-separated, e.g. jobs:create,jobs:read (default: all but admin:all)")
    parser.add_argument("--type", choices=["live", "test"], default="live", help="live (default) or test")
    parser.add_argument("--rate-limit", help="requests per minute (default by type)")
    parser.add_argument("--expires-at", help="ISO-8601 time after which the key is rejected")
    parser.add_argument(
        "--init", action="store_true", help="create a new, empty store if none exists (else that is refused)"
    )
    args = parser.parse_args()

    node = shutil.which("node")
    if node is None:
        print("create_api_key.py: Node.js 20.19+ is needed (the key is made by knify-server).", file=sys.stderr)
        return 1
    command = [node, CLI, "keys", "create", "--name", args.name, "--type", args.type]
    for flag, value in (
        ("--workspace", args.workspace),
        ("--permissions", args.permissions),
        ("--rate-limit", args.rate_limit),
        ("--expires-at", args.expires_at),
    ):
        if value is not None:
            command += [flag, value]
    if args.init:
        command.append("--init")
    return subprocess.run(command, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
