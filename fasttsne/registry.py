"""One registry of the classes fasttsne names: neighbour and gradient backends, affinity models.

Every class a user selects by name (``neighbors="annoy"``, ``negative_gradient_method="bh"``)
and every class a saved file names is found here, so selection and persistence agree on the
names. A *kind* is declared once, by the package that defines its base class, with that base
class and optionally an entry-point group; third-party packages then publish their classes
under the group (``[fasttsne.neighbors] my-backend = my_package:MyBackend``), and an entry
point is imported only the first time its name is asked for and not found among the
registered names.

This module imports nothing from fasttsne: the packages that own the kinds import it.
"""
from importlib import metadata

from ._params import InvalidParameterError

__all__ = ["declare", "register", "lookup", "name_of", "available", "registered", "base",
           "UnknownNameError"]


class UnknownNameError(InvalidParameterError):
    """A name that no registered class and no installed entry point answers to."""


class _Kind:
    """The registered classes of one kind, by canonical name, and the aliases of those names."""

    def __init__(self, kind, base, group, label, choices):
        self.kind = kind
        self.base = base
        self.group = group
        self.label = label
        self.choices = tuple(choices)
        self.classes = {}
        self.aliases = {}


_KINDS = {}


def declare(kind, base, *, group=None, label=None, choices=()):
    """Declare a kind of registered class.

    Parameters
    ----------
    kind : str
        The kind's name ("neighbors", "gradients", "affinity").
    base : type
        Every class registered under the kind must subclass it.
    group : str, optional
        Entry-point group searched for names not registered in this process.
    label : str, optional
        How messages name one such class ("neighbour backend"); default the kind.
    choices : sequence of str
        Names the caller resolves itself ("auto"), listed first when a name is unknown.
    """
    if kind in _KINDS:
        if _KINDS[kind].base is not base:
            raise ValueError(f"the registry kind {kind!r} is already declared for {_KINDS[kind].base!r}.")
        return
    _KINDS[kind] = _Kind(kind, base, group, label or kind, choices)


def _kind(kind):
    try:
        return _KINDS[kind]
    except KeyError:
        raise ValueError(f"unknown registry kind {kind!r}; declared kinds: {', '.join(sorted(_KINDS))}.") \
            from None


def register(kind, name, cls, aliases=()):
    """Make ``cls`` available under ``name`` (and ``aliases``) for ``kind``.

    Registering a name again replaces the class it stands for (a plugin may override a
    built-in). A class registered under several names is named by the first of them.

    Raises
    ------
    InvalidParameterError
        ``name`` or an alias is not a non-empty string, or is "auto" (reserved for the
        automatic choice); an alias is the registered name of another class.
    TypeError
        ``cls`` does not subclass the kind's base class.
    """
    entry = _kind(kind)
    for n in (name, *aliases):
        if not isinstance(n, str) or not n or n == "auto":
            raise InvalidParameterError(f"a {entry.label} name must be a non-empty string other than "
                                        f"'auto', got {n!r}.")
    taken = [a for a in aliases if a in entry.classes and entry.classes[a] is not cls]
    if taken:
        raise InvalidParameterError(f"{', '.join(map(repr, taken))} already name{'s' if len(taken) == 1 else ''} "
                                    f"another {entry.label}; an alias cannot replace a registered name.")
    if not (isinstance(cls, type) and issubclass(cls, entry.base)):
        raise TypeError(f"a {entry.label} must subclass {entry.base.__module__}.{entry.base.__qualname__}, "
                        f"got {cls!r}.")
    entry.aliases.pop(name, None)
    entry.classes[name] = cls
    for a in aliases:
        entry.aliases[a] = name


def _entry_points(group):
    if group is None:
        return []
    eps = metadata.entry_points()
    if hasattr(eps, "select"):  # Python >= 3.10
        return list(eps.select(group=group))
    return list(eps.get(group, []))


def _load_entry_point(entry, name):
    """Register the entry point called ``name``; False when no installed package has one."""
    for ep in _entry_points(entry.group):
        if ep.name == name:
            try:
                cls = ep.load()
            except Exception as e:
                raise ImportError(f"the {entry.label} plugin {name!r} ({ep.value}) failed to load: {e}") from e
            register(entry.kind, name, cls)
            return True
    return False


def lookup(kind, name):
    """The class registered (or published as an entry point) under ``name`` or an alias of it.

    Raises
    ------
    UnknownNameError
        No such name; the message lists the available ones.
    """
    entry = _kind(kind)
    if isinstance(name, str):
        canonical = entry.aliases.get(name, name)
        if canonical in entry.classes or _load_entry_point(entry, canonical):
            return entry.classes[canonical]
    names = [*entry.choices, *available(kind)]
    raise UnknownNameError(f"unknown {entry.label} {name!r}; available: {', '.join(names)}.")


def name_of(kind, cls):
    """The name ``cls`` is registered under for ``kind`` (without constructing it).

    A class that is not registered itself but sets ``registered_as`` to a registered class
    it subclasses (a convenience constructor of that class, e.g. openTSNE's
    ``nearest_neighbors.Sklearn`` of the exact backend) is named as that class.

    Raises
    ------
    LookupError
        ``cls`` is not registered (the message says how to register it).
    """
    entry = _kind(kind)
    stands_for = getattr(cls, "registered_as", None)
    for candidate in (cls, stands_for if isinstance(stands_for, type) and issubclass(cls, stands_for) else None):
        for name, registered in entry.classes.items():
            if registered is candidate:
                return name
    raise LookupError(f"the {entry.label} class {cls.__module__}.{cls.__qualname__} is not registered; "
                      f"register it with fasttsne.registry.register({kind!r}, name, cls).")


def available(kind):
    """Registered names (not aliases) and installed entry points' names for ``kind``, sorted."""
    entry = _kind(kind)
    return sorted(set(entry.classes) | {ep.name for ep in _entry_points(entry.group)})


def registered(kind):
    """The classes registered so far for ``kind``, by name (a copy; entry points not loaded)."""
    return dict(_kind(kind).classes)


def base(kind):
    """The base class every class registered for ``kind`` subclasses."""
    return _kind(kind).base
