"""mockvendor as an app factory for uvicorn (settings from the environment)."""

from mockvendor import Settings, create_app


def app():  # type: ignore[no-untyped-def]
    return create_app(Settings.from_env(dotenv=None))
