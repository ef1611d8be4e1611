"""Home view: one big tile per screen the signed-in user may use."""

from __future__ import annotations

from kivy.factory import Factory

from mobile.view import ScreenView


class HomeView(ScreenView):
    _shown: tuple = ()  # (language, tile screens) the grid was built for

    def refresh(self) -> None:
        super().refresh()
        presenter = self.presenter
        self.ids.header.title = presenter.title
        self.ids.roles.text = presenter.roles
        self.ids.summary.text = presenter.summary
        if presenter.nothing_to_do:
            self.ids.note.text = presenter.t("home.nothing")
        shown = (presenter.t.language, tuple(tile.screen for tile in presenter.tiles))
        if shown == self._shown:  # rebuilding a dozen buttons on every visit costs a frame's worth
            return
        self._shown = shown
        grid = self.ids.tiles
        grid.clear_widgets()
        for tile in presenter.tiles:
            button = Factory.Tile(text=presenter.t(tile.title_key))
            button.screen = tile.screen
            button.bind(on_release=lambda _b, screen=tile.screen: presenter.open(screen))
            grid.add_widget(button)
