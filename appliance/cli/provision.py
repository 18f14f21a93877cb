"""``doorward provision`` (the box's first-boot step) and ``doorward firmware-gpio``."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from appliance.cli.common import load


def register(sub: Any) -> None:
    """Add the provisioning commands to the parser."""
    from appliance.provision import Paths

    defaults = Paths()
    p = sub.add_parser(
        "provision",
        help="apply the boot partition's doorward.toml (run as root at every boot)",
        description=(
            "Check the boot partition's doorward.toml (and authorized_keys) whole, then apply "
            "all of it or nothing: the box's config, Wi-Fi, host name, SSH keys, time zone, "
            "config.txt's gpio= lines, the database, the TLS certificate and the one-time setup "
            "code. With nothing new on the boot partition, put the system files back as the "
            "applied config says. Exit status: 0 done (or nothing to do), 2 the file was "
            "refused (nothing changed), 1 it could not be applied."
        ),
    )
    p.add_argument("--boot", type=Path, default=defaults.boot, help="the FAT boot partition")
    p.add_argument("--data", type=Path, default=defaults.data, help="the data partition")
    p.add_argument("--etc", type=Path, default=defaults.etc, help="the system's /etc")
    p.add_argument("--root-home", type=Path, default=defaults.root_home, help=argparse.SUPPRESS)
    p.add_argument("--zoneinfo", type=Path, default=defaults.zoneinfo, help=argparse.SUPPRESS)
    p.set_defaults(handler=cmd_provision)
    p = sub.add_parser(
        "firmware-gpio",
        help="print config.txt's gpio= lines for the config's pins (outputs off, strike locked)",
    )
    p.set_defaults(handler=cmd_firmware_gpio)


def cmd_provision(args: argparse.Namespace) -> int:
    from appliance.provision import Paths, provision

    paths = Paths(
        boot=args.boot,
        data=args.data,
        etc=args.etc,
        root_home=args.root_home,
        zoneinfo=args.zoneinfo,
    )
    # The running box (not a test's directories): set the host name now, restart Wi-Fi.
    live = os.geteuid() == 0 and paths.etc == Path("/etc")
    outcome = provision(paths, live=live)
    stream = sys.stdout if outcome.code == 0 else sys.stderr
    for line in outcome.lines:
        print(f"doorward provision: {line}", file=stream, flush=True)
    return outcome.code


def cmd_firmware_gpio(args: argparse.Namespace) -> int:
    from appliance.firmware import gpio_lines

    for line in gpio_lines(load(args)):
        print(line)
    return 0
