"""mockvendor as an app factory for uvicorn (settings from the environment)."""

from mockvendor import Settings, create_app


def _served(app):  # type: ignore[no-untyped-def]
    """The app as ``mockvendor serve`` leaves it (the garbage collector's settings), where the
    source tree has that step."""
    try:
        from mockvendor.serving import settle_memory
    except ImportError:
        return app
    settle_memory()
    return app


def app():  # type: ignore[no-untyped-def]
    return _served(create_app(Settings.from_env(dotenv=None)))


def echo_app():  # type: ignore[no-untyped-def]
    """The same, every model answered by the echo engine: no llama.cpp (whose CPU code
    valgrind cannot run on machines with AMX or AVX-512), vendor E's path unchanged."""
    s = Settings.from_env(dotenv=None)
    s.models = {"echo": s.models["echo"]}
    s.vendor_a_model = s.vendor_b_model = s.catalog_model = "echo"
    return _served(create_app(s))
