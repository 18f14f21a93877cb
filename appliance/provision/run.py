"""``doorward provision``: apply the boot partition's files at boot, all or nothing.

Every boot: if the technician left a new ``doorward.toml`` (or ``authorized_keys``) on the boot
partition, check it whole; refuse it (changing nothing, saying why on the console, on the card
and on the admin page) or apply all of it. With nothing new, put the system files back as the
applied config says (after a reflash of the system partitions they are the image's defaults).
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import tomli_w

from appliance.config import Config
from appliance.files import write_atomic
from appliance.firmware import gpio_lines, replace_gpio_block
from appliance.provision import files
from appliance.provision.request import (
    APPLIED,
    BOOT_CONFIG,
    CONFIG_TXT,
    SECRETS_DIR,
    STORED_KEYS,
    STORED_PSK,
    SYSTEM_DIR,
    ProvisionError,
    Request,
    previous_config,
    read_request,
)
from appliance.provision.status import ProvisionStatus, now_iso, read_status, write_status
from appliance.provision.system import Paths, hostname_for, keys_files, system_files

LOG = logging.getLogger(__name__)
SERVICE_USER = "doorward"
ERROR_FILE = "doorward-error.txt"
SETUP_CODE_FILE = "doorward-setup-code.txt"
REFUSED, FAILED = 2, 1


@dataclass
class Outcome:
    """What provisioning did: the exit status and the lines for the console."""

    code: int = 0
    lines: list[str] = field(default_factory=list)
    setup_code: str | None = None
    firmware_changed: bool = False  # config.txt's gpio block: in force from the next power-up


def provision(paths: Paths, *, live: bool = False, user: str = SERVICE_USER) -> Outcome:
    """Apply what is new on the boot partition, or restore the system files; never half.

    ``live``: this is the running box (set the host name now, restart Wi-Fi).
    """
    try:
        request = read_request(paths)
    except ProvisionError as exc:
        return _refuse(paths, exc.problems, user)
    try:
        if request is None:
            return _restore(paths, live)
        return _apply(paths, request, live, user)
    except Exception as exc:  # disk full, a read-only /etc, a database that cannot open...
        LOG.debug("provisioning failed", exc_info=True)
        if request is None:
            return Outcome(FAILED, [f"could not restore the system files: {exc}"])
        return _refuse(paths, [f"could not apply them: {exc}"], user, code=FAILED)


def _refuse(paths: Paths, problems: list[str], user: str, code: int = REFUSED) -> Outcome:
    before = read_status(paths.data)
    applied_at = before.applied_at if before else None
    if code == FAILED:  # valid, but the disk (or the like) failed part-way: tried again
        head = (
            "the boot partition's files are valid but could not be applied completely; "
            "they stay on the card and are applied again at the next boot."
        )
    else:
        if previous_config(paths) is not None:
            keeps = "the box keeps its previous configuration" + (
                f" (applied at {applied_at})" if applied_at else ""
            )
        else:
            keeps = "the box has no configuration yet: the door controller does not start"
        head = f"the boot partition's files were NOT applied; nothing was changed: {keeps}."
    lines = [
        head,
        *problems,
        "Fix the file on the boot partition and restart the box: it is checked at every boot.",
    ]
    status = ProvisionStatus("failed", "\n".join(problems), now_iso(), applied_at)
    try:
        files.private_dir(paths.data)
        write_status(paths.data, status)
        owner = files.service_owner(user)
        if owner is not None:  # the admin page (its own user) shows the error
            os.chown(paths.data, *owner)
    except OSError as exc:
        lines.append(f"(could not record this for the admin page: {exc})")
    try:
        text = f"Doorward, {status.time}\n" + "\n".join(lines) + "\n"
        write_atomic(paths.boot / ERROR_FILE, text.encode(), 0o644)
    except OSError as exc:
        lines.append(f"(could not write {ERROR_FILE} on the boot partition: {exc})")
    return Outcome(code, lines)


def _stored(paths: Paths) -> tuple[str | None, str | None]:
    """The Wi-Fi key and SSH keys kept on the data partition."""
    folder = paths.data / SYSTEM_DIR
    if not folder.is_dir():
        return None, None
    files.private_dir(folder, root_only=True)
    psk, keys = (files.read_private(folder / name) for name in (STORED_PSK, STORED_KEYS))
    return (psk.strip() if psk else None), keys


def _system_and_firmware(
    paths: Paths, config: Config | None, outcome: Outcome, live: bool
) -> list[Path]:
    psk, keys = _stored(paths)
    if config is None:  # no door yet: only the SSH keys
        wanted = keys_files(paths, keys)
    else:
        wanted = system_files(config, paths, psk_hex=psk, authorized_keys=keys)
    changed = files.sync(wanted)
    if config is not None:
        config_txt = paths.boot / CONFIG_TXT
        old = config_txt.read_text(encoding="utf-8") if config_txt.exists() else ""
        new = replace_gpio_block(old, gpio_lines(config))
        if new != old:
            write_atomic(config_txt, new.encode(), 0o644)
            changed.append(config_txt)
            outcome.firmware_changed = True
            outcome.lines.append(
                "config.txt's gpio= lines changed: the firmware applies them from the next "
                "power-up; until then the controller holds the pins itself once it starts"
            )
    if live and changed:
        _live_effects(paths, config, changed)
    return changed


def _restore(paths: Paths, live: bool) -> Outcome:
    outcome = Outcome()
    config = previous_config(paths)
    if config is None and not (paths.data / SYSTEM_DIR).is_dir():
        outcome.lines.append(
            f"not provisioned: put a {BOOT_CONFIG} on the boot partition (see the README)"
        )
        return outcome
    changed = _system_and_firmware(paths, config, outcome, live)
    _forget_used_setup_code(paths)
    if changed:
        outcome.lines.insert(0, "restored from the applied config: " + ", ".join(map(str, changed)))
    return outcome


def _forget_used_setup_code(paths: Paths) -> None:
    """The card's copy of the setup code goes once the code has been used."""
    from appliance.box.files import SETUP_CODE_FILE as IN_DATA

    on_card = paths.boot / SETUP_CODE_FILE
    if on_card.exists() and not (paths.data / IN_DATA).exists():
        on_card.unlink()


def _apply(paths: Paths, request: Request, live: bool, user: str) -> Outcome:
    outcome = Outcome()
    data = files.private_dir(paths.data)
    system = files.private_dir(data / SYSTEM_DIR, root_only=True)
    if request.secret_files:
        folder = files.private_dir(data / SECRETS_DIR)
        for secret in request.secret_files:
            assert secret.dest.parent == folder
            write_atomic(secret.dest, secret.source.read_bytes(), 0o600)
    if request.psk_hex is not None:
        write_atomic(system / STORED_PSK, (request.psk_hex + "\n").encode(), 0o600)
    elif request.applied is not None and (request.config and not _has_wifi(request.config)):
        (system / STORED_PSK).unlink(missing_ok=True)
    if request.keys is not None:
        write_atomic(system / STORED_KEYS, (request.keys + "\n").encode(), 0o600)
    config = request.config
    if request.applied is not None and config is not None:
        outcome.setup_code = _init_box(config, paths)
        _certificate(config, paths)
    _system_and_firmware(paths, config, outcome, live)
    if request.applied is not None:
        text = tomli_w.dumps(request.applied)
        write_atomic(data / BOOT_CONFIG, text.encode(), 0o600)
    files.chown_tree(data, user, skip=frozenset({system}))
    _tidy_boot_partition(paths, request, outcome)
    before = read_status(data)
    now = now_iso()
    applied_at = now if request.applied is not None else before.applied_at if before else None
    summary = _summary(request, config)
    write_status(data, ProvisionStatus("applied", summary, now, applied_at, request.warnings))
    files.chown_tree(data, user, skip=frozenset({system}))
    outcome.lines[:0] = [summary, *(f"warning: {w}" for w in request.warnings)]
    if outcome.setup_code:
        outcome.lines.append(
            f"one-time admin setup code: {outcome.setup_code} (also in {SETUP_CODE_FILE} on the "
            f"boot partition): open https://{hostname_for(config) if config else 'the box'}/ "
            "and enter it to create the first admin"
        )
    return outcome


def _has_wifi(config: Config) -> bool:
    return config.network is not None and config.network.wifi is not None


def _summary(request: Request, config: Config | None) -> str:
    parts = []
    if request.applied is not None and config is not None:
        parts.append(f"applied {BOOT_CONFIG} for door {config.door.name!r}")
        parts.append(f"host name {hostname_for(config)}")
    if request.keys is not None:
        parts.append("SSH keys for root")
    return "provisioned: " + ", ".join(parts)


def _init_box(config: Config, paths: Paths) -> str | None:
    """``doorward init``: the database at its newest schema, and the setup code while unused."""
    from appliance.box.files import ensure_setup_code
    from appliance.store import Store

    with Store.for_data_dir(config.data_dir) as store:
        store.init(config.door.name, actor="doorward provision")
        return ensure_setup_code(config.data_dir, store)


def _certificate(config: Config, paths: Paths) -> None:
    """The admin page's certificate, made for this box's name (again if the name changed)."""
    from appliance.box.tls import (
        CERT_FILE,
        KEY_FILE,
        TLS_DIR,
        certificate_names,
        ensure_certificate,
    )

    hostname = hostname_for(config)
    folder = config.data_dir / TLS_DIR
    if hostname not in certificate_names(folder / CERT_FILE):
        for name in (CERT_FILE, KEY_FILE):
            (folder / name).unlink(missing_ok=True)
    ipv4 = config.network.ipv4 if config.network else None
    extra = [ipv4.address.split("/")[0]] if ipv4 else []
    ensure_certificate(config.data_dir, hostname=hostname, extra_addresses=extra)


def _tidy_boot_partition(paths: Paths, request: Request, outcome: Outcome) -> None:
    """The card keeps no secret: the config without them, the used files renamed."""
    boot = paths.boot
    if request.applied is not None:
        header = (
            f"# Applied by this box at {now_iso()}. Secrets were moved off the card: the Wi-Fi\n"
            "# passphrase (give it again only to join another network) and any key files.\n"
            f"# To change the box: edit, save as {BOOT_CONFIG} and restart it.\n"
        )
        text = header + tomli_w.dumps(request.applied)
        write_atomic(boot / (BOOT_CONFIG + APPLIED), text.encode(), 0o644)
    for source in request.sources:
        if source.name == BOOT_CONFIG:
            source.unlink()
        else:
            os.replace(source, source.with_name(source.name + APPLIED))
    for secret in request.secret_files:
        if secret.source.parent == boot:
            secret.source.unlink(missing_ok=True)
    (boot / ERROR_FILE).unlink(missing_ok=True)
    if outcome.setup_code:
        text = (
            f"Doorward one-time admin setup code: {outcome.setup_code}\n"
            "Open the box's admin page and enter it to create the first admin account.\n"
            "It works once; this file is removed at the next boot after it has been used.\n"
        )
        write_atomic(boot / SETUP_CODE_FILE, text.encode(), 0o644)


def _live_effects(paths: Paths, config: Config | None, changed: list[Path]) -> None:
    """On the running box: the host name now, Wi-Fi (re)started; the rest is read at start."""
    if config is None:
        return
    if paths.etc / "hostname" in changed:
        try:
            socket.sethostname(hostname_for(config))
        except OSError as exc:
            LOG.warning("could not set the host name now (it applies at the next boot): %s", exc)
    for path in changed:  # Wi-Fi's config written (restart) or removed (stop)
        name = path.name
        if name.startswith("wpa_supplicant-") and name.endswith(".conf"):
            interface = name.removeprefix("wpa_supplicant-").removesuffix(".conf")
            _systemctl("restart" if path.exists() else "stop", f"wpa_supplicant@{interface}")


def _systemctl(*args: str) -> None:
    try:
        subprocess.run(["systemctl", "--no-block", *args], check=False, timeout=10)
    except (OSError, subprocess.TimeoutExpired) as exc:
        LOG.warning("systemctl %s: %s", " ".join(args), exc)
