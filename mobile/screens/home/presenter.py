"""Home: the signed-in clerk's name, what their roles let them do here, and the sync summary.

A tile is shown only when the user's grants allow its permission (``TabletUser.may``, the
same matching rule the server applies), so a shop-floor operator never sees "Receive".
"""

from __future__ import annotations

from dataclasses import dataclass

from erp.access.permissions import BUILTIN_BY_CODE
from mobile.presenter import Presenter


def role_name(code: str, language: str) -> str:
    """A built-in role's name in the language (its name is "中文 English"); a custom role's code."""
    role = BUILTIN_BY_CODE.get(code)
    if role is None:
        return code
    chinese, _, english = role.name.partition(" ")
    return (chinese if language == "zh_CN" else english) or role.name


@dataclass(frozen=True)
class Tile:
    screen: str
    title_key: str
    permissions: tuple[str, ...]  # any one of them shows the tile; () shows it to everyone


TILES: tuple[Tile, ...] = (
    Tile("receipt", "screen.receipt", ("inventory.receive",)),
    Tile("po_receipt", "screen.po_receipt", ("purchasing.receive_po",)),
    Tile("putaway", "screen.putaway", ("inventory.transfer",)),
    Tile("transfer", "screen.transfer", ("inventory.transfer",)),
    Tile("picking", "screen.picking", ("sales.deliver",)),
    Tile("count", "screen.count", ("inventory.count",)),
    Tile("wo_issue", "screen.wo_issue", ("manufacturing.issue_material",)),
    Tile("operation_report", "screen.operation_report", ("manufacturing.report_operation",)),
    Tile("qc_entry", "screen.qc_entry", ("quality.record_result",)),
    Tile("lookup", "screen.lookup", ("inventory.view",)),
    Tile("inbox", "screen.inbox", ("sync.resolve_rejection", "sync.acknowledge_conflict")),
    Tile("sync_status", "screen.sync", ()),
)


class HomePresenter(Presenter):
    def __init__(self, tablet, t) -> None:
        super().__init__(tablet, t)
        self.tiles: list[Tile] = []
        self.title = ""
        self.roles = ""
        self.summary = ""

    def enter(self) -> None:
        user = self.tablet.user()
        if user is None:
            self.navigate("sign_in")
            return
        self.tiles = [tile for tile in TILES
                      if not tile.permissions or any(user.may(p) for p in tile.permissions)]
        self.title = self.t("home.title", name=user.display_name)
        self.roles = self.t("home.roles", roles=", ".join(role_name(r, self.t.language) for r in user.roles) or "-")
        status = self.tablet.client.status()
        self.summary = self.t("home.summary", state=self.t(f"sync.state.{status.state}"), pending=status.pending,
                              inbox=status.open_rejections + status.open_conflicts + status.pending_with_local_errors)
        self.changed()

    @property
    def nothing_to_do(self) -> bool:
        return not any(tile.permissions for tile in self.tiles)

    def open(self, screen: str) -> None:
        if screen not in {tile.screen for tile in self.tiles}:
            raise ValueError(f"{screen} is not on this user's home screen")
        self.navigate(screen)

    def sign_out(self) -> None:
        self.tablet.client.sign_out()
        self.tiles = []
        self.navigate("sign_in")
