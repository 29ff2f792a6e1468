"""Configuration: arguments over environment over soapkit.toml over defaults, secrets from files or the
environment, clear errors naming the setting, where it came from and the fix; a client built from it."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from soapkit.config import (
    ENVIRONMENT_VARIABLES,
    KEYS,
    build_client,
    cache_from_settings,
    config_search_path,
    credential_from_settings,
    find_config_file,
    load_settings,
)
from soapkit.credentials.base import MemoryCache, StaticToken
from soapkit.credentials.caches import FileCache, new_cache_key
from soapkit.credentials.keys import private_key_to_pem
from soapkit.credentials.system_user import SystemUser
from soapkit.errors import CacheKeyError, ConfigurationError, KeyFormatError


@pytest.fixture
def home(tmp_path: Path) -> dict[str, str]:
    """An environment with no SOAPKIT_* variables and an empty user config folder."""
    (tmp_path / "xdg").mkdir()
    return {"XDG_CONFIG_HOME": str(tmp_path / "xdg")}


@pytest.fixture
def work(tmp_path: Path) -> Path:
    folder = tmp_path / "work"
    folder.mkdir()
    return folder


def secret_file(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text + "\n")
    path.chmod(0o600)
    return path


def load(work: Path, environ: dict[str, str], arguments: dict[str, object] | None = None, **options: object):
    return load_settings(arguments, environ=environ, cwd=work, **options)  # type: ignore[arg-type]


# --- precedence and sources ----------------------------------------------------------------------------------


def test_defaults_alone(work: Path, home: dict[str, str]) -> None:
    settings = load(work, home)
    assert settings.values == {"env": "online", "services_version": "Services88", "timeout": 30.0,
                               "cache": "memory", "exchange_method": "soap"}
    assert set(settings.sources.values()) == {"default"}
    assert settings.config_file is None


def test_arguments_beat_environment_beat_toml_beat_defaults(work: Path, home: dict[str, str]) -> None:
    (work / "soapkit.toml").write_text('env = "sod"\ncontext_identifier = "Cust1"\ntimeout = 10\nclient_id = "app"\n')
    environ = {**home, "SOAPKIT_CONTEXT_IDENTIFIER": "Cust2", "SOAPKIT_TIMEOUT": "20"}
    settings = load(work, environ, {"timeout": 5})
    assert (settings.get("env"), settings.get("context_identifier"), settings.get("timeout")) == ("sod", "Cust2", 5.0)
    toml = f"config file ({work / 'soapkit.toml'})"
    assert settings.sources == {
        "env": toml, "client_id": toml, "context_identifier": "environment (SOAPKIT_CONTEXT_IDENTIFIER)",
        "timeout": "argument", "services_version": "default", "cache": "default", "exchange_method": "default",
    }
    assert settings.config_file == work / "soapkit.toml"


def test_none_arguments_are_ignored(work: Path, home: dict[str, str]) -> None:
    settings = load(work, {**home, "SOAPKIT_ENV": "sod"}, {"env": None, "context_identifier": None})
    assert settings.get("env") == "sod" and "context_identifier" not in settings.values


def test_context_identifier_alias(work: Path, home: dict[str, str]) -> None:
    assert load(work, {**home, "SOAPKIT_CTX": "Cust3"}).get("context_identifier") == "Cust3"
    both = load(work, {**home, "SOAPKIT_CTX": "Cust3", "SOAPKIT_CONTEXT_IDENTIFIER": "Cust4"})
    assert both.get("context_identifier") == "Cust4"
    assert both.sources["context_identifier"] == "environment (SOAPKIT_CONTEXT_IDENTIFIER)"


def test_a_secret_from_a_higher_layer_hides_the_file_below(work: Path, home: dict[str, str]) -> None:
    secret_file(work, "app_token", "from-file")
    (work / "soapkit.toml").write_text('app_token_file = "app_token"\n')
    settings = load(work, {**home, "SOAPKIT_APP_TOKEN": "from-environment"})
    assert settings.secret("app_token") == "from-environment"
    assert "app_token_file" not in settings.values
    # and the other way round: a file named by an argument beats a value in the environment
    other = secret_file(work, "other_token", "from-argument-file")
    settings = load(work, {**home, "SOAPKIT_APP_TOKEN": "from-environment"}, {"app_token_file": str(other)})
    assert settings.secret("app_token") == "from-argument-file"


def test_every_environment_variable_is_documented_in_keys() -> None:
    for variable, name in ENVIRONMENT_VARIABLES.items():
        assert variable.startswith("SOAPKIT_") and name in KEYS
    assert {"SOAPKIT_ENV", "SOAPKIT_CONTEXT_IDENTIFIER", "SOAPKIT_APP_TOKEN", "SOAPKIT_APP_TOKEN_FILE",
            "SOAPKIT_SYSTEM_USER_TOKEN", "SOAPKIT_SYSTEM_USER_TOKEN_FILE", "SOAPKIT_PRIVATE_KEY", "SOAPKIT_TICKET",
            "SOAPKIT_TICKET_FILE", "SOAPKIT_CACHE", "SOAPKIT_CACHE_KEY", "SOAPKIT_CACHE_KEY_FILE"} <= set(
        ENVIRONMENT_VARIABLES)


# --- finding the file ----------------------------------------------------------------------------------------


def test_search_order(work: Path, home: dict[str, str], tmp_path: Path) -> None:
    user = Path(home["XDG_CONFIG_HOME"]) / "soapkit" / "soapkit.toml"
    assert config_search_path(environ=home, cwd=work) == [work / "soapkit.toml", user]
    assert find_config_file(environ=home, cwd=work) == (None, "none found")
    user.parent.mkdir()
    user.write_text('env = "sod"\n')
    assert find_config_file(environ=home, cwd=work)[0] == user
    (work / "soapkit.toml").write_text('env = "online"\n')
    assert find_config_file(environ=home, cwd=work)[0] == work / "soapkit.toml"
    named = tmp_path / "named.toml"
    named.write_text('env = "qaonline"\n')
    assert find_config_file(environ={**home, "SOAPKIT_CONFIG": str(named)}, cwd=work)[0] == named
    explicit = tmp_path / "explicit.toml"
    explicit.write_text('env = "stage"\n')
    assert find_config_file(explicit, environ={**home, "SOAPKIT_CONFIG": str(named)}, cwd=work)[0] == explicit
    assert load(work, home, config_file=explicit).get("env") == "stage"


def test_soapkit_config_dir_overrides_the_user_folder(work: Path, tmp_path: Path) -> None:
    environ = {"SOAPKIT_CONFIG_DIR": str(tmp_path / "mine"), "XDG_CONFIG_HOME": str(tmp_path / "xdg")}
    assert config_search_path(environ=environ, cwd=work)[1] == tmp_path / "mine" / "soapkit.toml"


def test_home_config_when_xdg_is_unset(work: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert config_search_path(environ={}, cwd=work)[1] == tmp_path / ".config" / "soapkit" / "soapkit.toml"


@pytest.mark.parametrize("how", ["explicit", "environment"])
def test_a_named_file_must_exist(work: Path, home: dict[str, str], how: str) -> None:
    missing = work / "nope.toml"
    with pytest.raises(ConfigurationError) as raised:
        if how == "explicit":
            load(work, home, config_file=missing)
        else:
            load(work, {**home, "SOAPKIT_CONFIG": str(missing)})
    assert str(missing) in str(raised.value)
    assert ("--config" if how == "explicit" else "SOAPKIT_CONFIG") in str(raised.value)


# --- bad values ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("toml", "expected"), [
    ('envv = "sod"\n', ["unknown setting 'envv'", "Did you mean env"]),
    ('timout = 3\n', ["unknown setting 'timout'", "Did you mean timeout"]),
    ('app_token = "s3cr3t-value"\n', ["unknown setting 'app_token'", "app_token_file", "SOAPKIT_APP_TOKEN"]),
    ('ticket = "7T:abcdef"\n', ["unknown setting 'ticket'", "ticket_file"]),
    ('timeout = "soon"\n', ["timeout (from", "number of seconds", "'soon'"]),
    ("timeout = true\n", ["timeout (from", "not true/false"]),
    ("timeout = 0\n", ["timeout (from", "more than 0"]),
    ("refresh_margin = -1\n", ["refresh_margin (from", "0 or more"]),
    ("env = 3\n", ["env (from", "must be text", "quote it"]),
    ('exchange_method = "grpc"\n', ["exchange_method (from", "soap, rest"]),
    ("wsdl_dirs = 5\n", ["wsdl_dirs (from", "list of folders"]),
    ('[profile]\nenv = "sod"\n', ["unknown setting 'profile'"]),
    ('env = "sod\n', ["not valid TOML", "line 1"]),
])
def test_bad_toml_names_the_key_and_the_fix(work: Path, home: dict[str, str], toml: str,
                                            expected: list[str]) -> None:
    (work / "soapkit.toml").write_text(toml)
    with pytest.raises(ConfigurationError) as raised:
        load(work, home)
    message = str(raised.value)
    for part in expected:
        assert part in message
    assert str(work / "soapkit.toml") in message
    assert "s3cr3t" not in message and "abcdef" not in message


def test_bad_environment_value_names_the_variable(work: Path, home: dict[str, str]) -> None:
    with pytest.raises(ConfigurationError, match=r"timeout \(from environment variable SOAPKIT_TIMEOUT\)"):
        load(work, {**home, "SOAPKIT_TIMEOUT": "abc"})


def test_unknown_argument_is_refused(work: Path, home: dict[str, str]) -> None:
    with pytest.raises(ConfigurationError, match="Unknown setting 'tenant'"):
        load(work, home, {"tenant": "Cust1"})


def test_relative_paths_in_toml_are_relative_to_it(work: Path, home: dict[str, str], tmp_path: Path) -> None:
    elsewhere = tmp_path / "etc"
    elsewhere.mkdir()
    (elsewhere / "soapkit.toml").write_text(
        'private_key = "keys/partner.pem"\nwsdl_dirs = ["wsdl", "/opt/wsdl"]\napp_token_file = "~/secret"\n')
    settings = load(work, home, config_file=elsewhere / "soapkit.toml")
    assert settings.get("private_key") == str(elsewhere / "keys" / "partner.pem")
    assert settings.get("wsdl_dirs") == [str(elsewhere / "wsdl"), "/opt/wsdl"]
    assert settings.get("app_token_file") == str(Path("~/secret").expanduser())


def test_wsdl_dirs_from_the_environment_split_like_path(work: Path, home: dict[str, str]) -> None:
    assert load(work, {**home, "SOAPKIT_WSDL_DIRS": "/a:/b"}).get("wsdl_dirs") == ["/a", "/b"]


# --- secrets -------------------------------------------------------------------------------------------------


def test_secret_file_problems_name_the_key_and_where_it_was_set(work: Path, home: dict[str, str]) -> None:
    settings = load(work, {**home, "SOAPKIT_APP_TOKEN_FILE": str(work / "missing")})
    with pytest.raises(ConfigurationError) as raised:
        settings.secret("app_token")
    assert "app_token_file (from environment (SOAPKIT_APP_TOKEN_FILE))" in str(raised.value)
    assert "does not exist" in str(raised.value)
    secret_file(work, "empty", "")
    with pytest.raises(ConfigurationError, match="is empty"):
        load(work, home, {"app_token_file": str(work / "empty")}).secret("app_token")
    with pytest.raises(ConfigurationError, match="is a folder"):
        load(work, home, {"app_token_file": str(work)}).secret("app_token")


def test_secret_file_is_stripped_and_a_loose_one_is_reported(work: Path, home: dict[str, str],
                                                             caplog: pytest.LogCaptureFixture) -> None:
    path = secret_file(work, "token", "  the-secret  ")
    assert load(work, home, {"app_token_file": str(path)}).secret("app_token") == "the-secret"
    assert not caplog.records
    path.chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="soapkit.config"):
        load(work, home, {"app_token_file": str(path)}).secret("app_token")
    assert "chmod 600" in caplog.text and "the-secret" not in caplog.text


def test_display_masks_secrets_key_text_and_cache_passwords(work: Path, home: dict[str, str]) -> None:
    environ = {**home, "SOAPKIT_APP_TOKEN": "app-secret-value", "SOAPKIT_PRIVATE_KEY": "-----BEGIN PRIVATE KEY-----x",
               "SOAPKIT_CACHE": "redis://:hunter2@cache.internal:6379/0", "SOAPKIT_TICKET_FILE": "/run/ticket"}
    settings = load(work, environ)
    shown = {name: (value, source) for name, value, source in settings.display()}
    assert shown["app_token"] == ("***", "environment (SOAPKIT_APP_TOKEN)")
    assert shown["private_key"][0] == "*** (key text)"
    assert shown["cache"][0] == "redis://:***@cache.internal:6379/0"
    assert shown["ticket_file"][0] == "/run/ticket"  # where a secret is kept is not a secret
    text = repr(settings) + str(settings.display())
    assert "app-secret-value" not in text and "hunter2" not in text and "BEGIN" not in text
    revealed = {name: value for name, value, _ in settings.display(show_secrets=True)}
    assert revealed["app_token"] == "app-secret-value" and "hunter2" in revealed["cache"]


# --- building the credential, the cache and the client -----------------------------------------------------------


@pytest.fixture(scope="module")
def key_pem(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("keys") / "partner.pem"
    path.write_text(private_key_to_pem(rsa.generate_private_key(public_exponent=65537, key_size=2048)))
    path.chmod(0o600)
    return path


def test_ticket_wins_over_the_system_user(work: Path, home: dict[str, str], key_pem: Path) -> None:
    secret_file(work, "ticket", "7T:given")
    settings = load(work, {**home, "SOAPKIT_TICKET_FILE": str(work / "ticket"), "SOAPKIT_SYSTEM_USER_TOKEN": "t",
                           "SOAPKIT_PRIVATE_KEY": str(key_pem)})
    credential = credential_from_settings(settings)
    assert isinstance(credential, StaticToken)


def test_system_user_with_a_shared_encrypted_file_cache(work: Path, home: dict[str, str], key_pem: Path) -> None:
    secret_file(work, "sut", "App Name-8k8Q7DmBgo")
    secret_file(work, "cache.key", new_cache_key())
    (work / "soapkit.toml").write_text(
        f'system_user_token_file = "sut"\nprivate_key = "{key_pem}"\ncache = "file:cache"\n'
        'cache_key_file = "cache.key"\nexchange_method = "REST"\nrefresh_margin = 120\n')
    credential = credential_from_settings(load(work, home))
    assert isinstance(credential, SystemUser)
    assert isinstance(credential.cache, FileCache) and "encrypted=True" in repr(credential.cache)
    assert credential.cache.directory == work / "cache"
    assert (credential.method, credential.refresh_margin) == ("rest", 120.0)


def test_default_cache_is_memory_and_a_key_without_a_shared_cache_is_refused(work: Path, home: dict[str, str]) -> None:
    assert isinstance(cache_from_settings(load(work, home)), MemoryCache)
    with pytest.raises(ConfigurationError, match=r"cache \(from default\).*in memory"):
        cache_from_settings(load(work, {**home, "SOAPKIT_CACHE_KEY": new_cache_key()}))
    with pytest.raises(CacheKeyError):
        cache_from_settings(load(work, {**home, "SOAPKIT_CACHE": f"file:{work}/c", "SOAPKIT_CACHE_KEY": "short"}))
    with pytest.raises(ConfigurationError, match=r"cache \(from environment \(SOAPKIT_CACHE\)\)"):
        cache_from_settings(load(work, {**home, "SOAPKIT_CACHE": "memcached://x"}))


def test_missing_credential_says_what_to_set(work: Path, home: dict[str, str], key_pem: Path) -> None:
    with pytest.raises(ConfigurationError) as raised:
        credential_from_settings(load(work, {**home, "SOAPKIT_PRIVATE_KEY": str(key_pem)}))
    assert "system_user_token missing" in str(raised.value) and "SOAPKIT_SYSTEM_USER_TOKEN_FILE" in str(raised.value)


def test_missing_private_key_file_names_the_setting(work: Path, home: dict[str, str]) -> None:
    settings = load(work, {**home, "SOAPKIT_SYSTEM_USER_TOKEN": "t", "SOAPKIT_PRIVATE_KEY": str(work / "no.pem")})
    with pytest.raises(KeyFormatError, match=r"private_key \(from environment \(SOAPKIT_PRIVATE_KEY\)\)"):
        credential_from_settings(settings)


def test_a_key_only_parsing_finds_broken_names_the_setting_when_first_signing(work: Path,
                                                                                home: dict[str, str]) -> None:
    from soapkit.credentials.system_user import SystemUser

    broken = work / "broken.pem"
    broken.write_text("-----BEGIN PRIVATE KEY-----\nAAAAAAAAAAAA\n-----END PRIVATE KEY-----\n")
    broken.chmod(0o600)
    settings = load(work, {**home, "SOAPKIT_SYSTEM_USER_TOKEN": "t", "SOAPKIT_PRIVATE_KEY": str(broken)})
    credential = credential_from_settings(settings)  # read and checked; a cached ticket would need no more
    assert isinstance(credential, SystemUser)
    with pytest.raises(KeyFormatError) as raised:
        credential.sign()
    assert str(raised.value).startswith(
        "private_key (from environment (SOAPKIT_PRIVATE_KEY)): The PEM private key cannot be read")


def test_build_client(work: Path, home: dict[str, str]) -> None:
    environ = {**home, "SOAPKIT_ENV": "stage", "SOAPKIT_CONTEXT_IDENTIFIER": "Cust12345", "SOAPKIT_APP_TOKEN": "s",
               "SOAPKIT_TICKET": "8A:Cust12345.token", "SOAPKIT_TIMEOUT": "7"}
    with build_client(load(work, environ)) as so:
        assert so.context.environment.base_url == "https://qaonline.superoffice.com"
        assert so.context.context_identifier == "Cust12345" and so.context.timeout == 7.0
        assert so.ticket() == "8A:Cust12345.token"


def test_build_client_from_a_plain_mapping() -> None:
    with build_client({"env": "sod", "context_identifier": "Cust1", "ticket": "7T:x"}) as so:
        assert so.context.environment.name == "sod"


@pytest.mark.parametrize(("environ", "expected"), [
    ({"SOAPKIT_TICKET": "7T:x"}, "No tenant configured"),
    ({"SOAPKIT_TICKET": "7T:x", "SOAPKIT_CONTEXT_IDENTIFIER": "Cust1", "SOAPKIT_ENV": "prod"},
     "env (from environment (SOAPKIT_ENV)): Unknown environment 'prod'"),
    ({"SOAPKIT_TICKET": "7T:x", "SOAPKIT_CONTEXT_IDENTIFIER": "12345"},
     "context_identifier (from environment (SOAPKIT_CONTEXT_IDENTIFIER)): '12345' is not a context identifier"),
])
def test_build_client_errors_name_the_setting(work: Path, home: dict[str, str], environ: dict[str, str],
                                              expected: str) -> None:
    with pytest.raises(ConfigurationError) as raised:
        build_client(load(work, {**home, **environ}))
    assert expected in str(raised.value)


def test_plain_mappings_from_the_command_line_get_no_invented_source() -> None:
    with pytest.raises(KeyFormatError) as raised:
        credential_from_settings({"system_user_token": "t", "private_key": "/nonexistent/partner.pem"})
    assert str(raised.value).startswith("private_key: Private key file /nonexistent/partner.pem does not exist")
    with pytest.raises(ConfigurationError) as raised:
        cache_from_settings({"cache": "memcached://x"})
    assert str(raised.value).startswith("cache: Unknown credential cache")


# --- a sandbox, and which credential -------------------------------------------------------------------------


def test_a_sandbox_sits_between_the_environment_and_the_arguments(work: Path, home: dict[str, str]) -> None:
    import json

    (work / "sb").mkdir()
    (work / "sb" / "sandbox.json").write_text(json.dumps({
        "base_url": "http://127.0.0.1:9", "context_identifier": "Cust7", "client_secret": "sb-secret",
        "system_user_token": "App-1", "private_key_pem": "partner.pem"}))
    (work / "soapkit.toml").write_text('sandbox = "sb"\ncontext_identifier = "Cust1"\n')
    settings = load(work, {**home, "SOAPKIT_CONTEXT_IDENTIFIER": "Cust2", "SOAPKIT_APP_TOKEN_FILE": "/x"})
    sandbox_json = f"sandbox ({work / 'sb' / 'sandbox.json'})"
    assert settings.get("context_identifier") == "Cust7" and settings.sources["context_identifier"] == sandbox_json
    assert settings.get("private_key") == str(work / "sb" / "partner.pem")
    assert settings.secret("app_token") == "sb-secret" and "app_token_file" not in settings.values
    assert settings.sources["sandbox"] == f"config file ({work / 'soapkit.toml'})"
    settings = load(work, home, {"context_identifier": "Cust3"})
    assert settings.get("context_identifier") == "Cust3" and settings.get("env") == "http://127.0.0.1:9"


def test_auth_named_in_the_toml_says_what_is_missing(work: Path, home: dict[str, str]) -> None:
    (work / "soapkit.toml").write_text('auth = "reference_token"\n')
    with pytest.raises(ConfigurationError) as raised:
        credential_from_settings(load(work, home))
    message = str(raised.value)
    assert f"auth (from config file ({work / 'soapkit.toml'})) is reference_token: reference_token missing" in message
    assert "--reference-token-file FILE" in message and "SOAPKIT_REFERENCE_TOKEN" in message
    (work / "soapkit.toml").write_text('auth = "password"\n')
    with pytest.raises(ConfigurationError, match="is not one of system_user, ticket, oauth_user"):
        load(work, home)


def test_each_provider_from_settings(work: Path, home: dict[str, str], key_pem: Path) -> None:
    from soapkit.config import auth_kind
    from soapkit.credentials.oauth import ClientCredentials
    from soapkit.credentials.reference import ReferenceToken

    assert isinstance(credential_from_settings(load(work, {**home, "SOAPKIT_REFERENCE_TOKEN": "8S:Cust1.x"})),
                      ReferenceToken)
    service = {"client_id": "app", "app_token": "secret", "auth": "client_credentials", "cache": f"file:{work}/c"}
    credential = credential_from_settings(load(work, home, service))
    assert isinstance(credential, ClientCredentials) and isinstance(credential.cache, FileCache)
    system_user = {"SOAPKIT_SYSTEM_USER_TOKEN": "t", "SOAPKIT_PRIVATE_KEY": str(key_pem)}
    assert auth_kind(load(work, {**home, **system_user})) == "system_user"
    with pytest.raises(ConfigurationError, match=r"More than one credential.*ticket.*reference_token"):
        auth_kind(load(work, {**home, "SOAPKIT_TICKET": "7T:x", "SOAPKIT_REFERENCE_TOKEN": "8P:Cust1.x"}))


def test_looking_for_a_stored_sign_in_creates_nothing(work: Path, home: dict[str, str], key_pem: Path) -> None:
    from soapkit.config import auth_kind

    environ = {**home, "SOAPKIT_SYSTEM_USER_TOKEN": "t", "SOAPKIT_PRIVATE_KEY": str(key_pem),
               "SOAPKIT_CLIENT_ID": "app", "SOAPKIT_APP_TOKEN": "s", "SOAPKIT_CONTEXT_IDENTIFIER": "Cust1",
               "SOAPKIT_SIGN_IN_STORE": str(work / "sign-ins")}
    assert auth_kind(load(work, environ)) == "system_user"
    assert not (work / "sign-ins").exists()
