"""Modules, their mutations and their sync specs, discovered from module manifests.

A business module is a folder under ``erp/`` whose ``__init__.py`` exposes ``MODULE``, a
``ModuleManifest``. Nothing central lists modules: ``discover()`` imports every package under
``erp`` and orders them by their declared dependencies.

Invariants: a mutation is identified by ``name@version`` and both sides resolve it to the same
handler; a table has at most one sync spec; a module's dependencies load before it.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any, Callable, Generic, Mapping, TypeVar

import msgspec

from sync.errors import UnknownMutation
from sync.specs import SyncSpec

if TYPE_CHECKING:
    from sync.context import MutationContext

ArgsT = TypeVar("ArgsT", bound=msgspec.Struct)


@dataclass(frozen=True)
class MutationDef(Generic[ArgsT]):
    """A named, versioned business operation with typed arguments and one handler."""

    name: str
    version: int
    args_type: type[ArgsT]
    handler: Callable[["MutationContext", ArgsT], Any]
    description: str = ""
    # Arguments that carry personal data (an ID number, a salary...): a device keeps the queued
    # mutation encrypted, and a stored rejection keeps them out of its copy of the arguments.
    personal_args: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.name}@{self.version}"

    def decode_json(self, payload: bytes) -> ArgsT:
        return msgspec.json.decode(payload, type=self.args_type)

    def convert(self, value: Any) -> ArgsT:
        """Validate already-decoded wire data (a dict) into the typed arguments."""
        return msgspec.convert(value, type=self.args_type, strict=False)


def mutation(name: str, version: int, args_type: type[ArgsT], description: str = "", *,
             personal_args: tuple[str, ...] = ()):
    """Decorator that turns a handler into a ``MutationDef``."""
    unknown = set(personal_args) - set(args_type.__struct_fields__)
    if unknown:
        raise ValueError(f"{name}: personal_args {sorted(unknown)} are not arguments of {args_type.__name__}")

    def wrap(handler: Callable[["MutationContext", ArgsT], Any]) -> MutationDef[ArgsT]:
        return MutationDef(name, version, args_type, handler, description or (handler.__doc__ or "").strip(),
                           personal_args)

    return wrap


@dataclass(frozen=True)
class ModuleManifest:
    """What a module is, what it needs, and what it contributes to the engine."""

    name: str
    description: str
    depends: tuple[str, ...] = ()
    mutations: tuple[MutationDef, ...] = ()
    sync_specs: tuple[SyncSpec, ...] = ()
    # Tables that live only on the server and never replicate (with the reason in the module).
    server_only_tables: tuple[str, ...] = ()
    # Permissions beyond the module's mutations and ``<module>.view``, with what each allows
    # (``hr.view_personal``: ID numbers, phones, bank accounts). Part of the permission catalog.
    permissions: Mapping[str, str] = field(default_factory=dict, hash=False)


@dataclass
class Registry:
    modules: list[ModuleManifest] = field(default_factory=list)
    mutations: dict[str, MutationDef] = field(default_factory=dict)
    latest: dict[str, MutationDef] = field(default_factory=dict)
    specs: dict[str, SyncSpec] = field(default_factory=dict)
    modules_by_table: dict[str, str] = field(default_factory=dict)  # table name -> module name

    def add(self, module: ModuleManifest) -> None:
        self.modules.append(module)
        for definition in module.mutations:
            if definition.key in self.mutations:
                raise ValueError(f"mutation {definition.key} registered twice")
            self.mutations[definition.key] = definition
            current = self.latest.get(definition.name)
            if current is None or current.version < definition.version:
                self.latest[definition.name] = definition
        for spec in module.sync_specs:
            if spec.name in self.specs:
                raise ValueError(f"table {spec.name} has two sync specs")
            self.specs[spec.name] = spec
            self.modules_by_table[spec.name] = module.name

    def resolve(self, name: str, version: int) -> MutationDef:
        definition = self.mutations.get(f"{name}@{version}")
        if definition is None:
            raise UnknownMutation(f"unknown mutation {name}@{version}", name=name, version=version)
        return definition

    def resolve_latest(self, name: str) -> MutationDef:
        definition = self.latest.get(name)
        if definition is None:
            raise UnknownMutation(f"unknown mutation {name}", name=name)
        return definition

    def spec(self, table_name: str) -> SyncSpec:
        return self.specs[table_name]

    def module_of(self, table_name: str) -> str:
        """The name of the module that declares the replicated table ``table_name``."""
        return self.modules_by_table[table_name]

    def ordered_specs(self) -> list[SyncSpec]:
        """Specs in module dependency order, so parents arrive before children on bootstrap."""
        return list(self.specs.values())


def _toposort(manifests: dict[str, ModuleManifest]) -> list[ModuleManifest]:
    ordered: list[ModuleManifest] = []
    state: dict[str, str] = {}

    def visit(name: str) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "visiting":
            raise ValueError(f"module dependency cycle through {name}")
        if name not in manifests:
            raise ValueError(f"unknown module dependency {name}")
        state[name] = "visiting"
        for dependency in manifests[name].depends:
            visit(dependency)
        state[name] = "done"
        ordered.append(manifests[name])

    for name in sorted(manifests):
        visit(name)
    return ordered


@cache
def discover(package: str = "erp") -> Registry:
    """Import every module package under ``package`` and register its manifest."""
    import sync.builtin as builtin  # the engine's own replicated tables and mutations

    root = importlib.import_module(package)
    manifests: dict[str, ModuleManifest] = {builtin.MODULE.name: builtin.MODULE}
    for info in pkgutil.iter_modules(root.__path__):
        if not info.ispkg:
            continue
        module = importlib.import_module(f"{package}.{info.name}")
        manifest = getattr(module, "MODULE", None)
        if isinstance(manifest, ModuleManifest):
            manifests[manifest.name] = manifest
    registry = Registry()
    for manifest in _toposort(manifests):
        registry.add(manifest)
    return registry
