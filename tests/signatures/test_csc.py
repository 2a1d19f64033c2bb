"""CscClient, CscKey and the hash-only flow against a CSC service on 127.0.0.1.

The service is certomancer-csc-dummy (the CSC implementation pyHanko's own tests use)
serving the demo PKI's keys, started in a background thread by :class:`CscTestServer`.
The dummy speaks API v1 and has no access control, so the harness puts in front of its
handlers what a trust service provider has: ``auth/login`` (HTTP Basic) issuing bearer
tokens that every other call must carry, a PIN per credential checked by
``credentials/authorize`` (``explicit`` auth mode), and the v2 spelling of the same calls
(``/csc/v2``: ``hashes``, ``hashAlgorithmOID``, ``authData``, ``auth.mode``), translated
to the dummy's v1 handlers. Keys, SAD binding (SCAL 2: a SAD signs only the hashes it was
issued for) and signatures are the dummy's own.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import secrets
import threading
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from aiohttp import web
from certomancer.registry import CertomancerConfig
from cryptography import x509 as pyca_x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from pyhanko.sign.signers.csc_signer import CSCSigner

from signatures.csc import ApiVersion, CscClient, CscKey, RemoteSignerError
from signatures.errors import KeyAccessError
from signatures.external import complete_external_signature, prepare_external_signature
from signatures.fields import prepare_for_signing
from signatures.pki import ARCH_LABEL, DemoPki, DemoSignatory
from signatures.profiles import FieldSpec, PadesLevel, ServiceUrls, TrustSettings
from signatures.signing import sign_pdf
from signatures.validation import validate_pdf

USERNAME = "prezes@e-izba.pl"
PASSWORD = "correct horse battery staple"
PIN = "4321"
FIELD = "podpis-1"


class _JsonRequest:
    """What the dummy's handlers read from a request: only ``await request.json()``."""

    def __init__(self, params: dict[str, Any]) -> None:
        self._params = params

    async def json(self) -> dict[str, Any]:
        return self._params


def _error(status: int, error: str, description: str) -> web.Response:
    return web.json_response({"error": error, "error_description": description}, status=status)


class CscTestServer:
    """certomancer-csc-dummy over a certomancer config, with logins, tokens and PINs.

    :param users: username -> password accepted by ``auth/login``.
    :param pins: credential ID -> PIN required by ``credentials/authorize``.
    """

    def __init__(
        self,
        config: CertomancerConfig,
        *,
        users: dict[str, str],
        pins: dict[str, str],
        host: str = "127.0.0.1",
    ) -> None:
        self.config = config
        self.users = dict(users)
        self.pins = dict(pins)
        self.host = host
        self.port = 0
        self.tokens: set[str] = set()
        self.logins = 0
        self.calls: list[tuple[str, str]] = []
        """(API version, method) of every CSC call, in order."""
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopped: asyncio.Event | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def issue_token(self) -> str:
        token = secrets.token_urlsafe(16)
        self.tokens.add(token)
        return token

    def _build_app(self) -> web.Application:
        # certomancer-csc-dummy ships no type information.
        from csc_dummy.csc_dummy_server import (  # type: ignore[import-untyped]
            CSCWithCertomancer,
            DummyServiceParams,
        )

        with warnings.catch_warnings():  # the dummy keys its aiohttp app config by str
            warnings.simplefilter("ignore", web.NotAppKeyWarning)
            dummy = CSCWithCertomancer(
                self.config, service_params=DummyServiceParams(hash_pinning_required=True)
            )
        server = self

        @web.middleware
        async def bearer_tokens(request: web.Request, handler: Any) -> web.StreamResponse:
            method = request.match_info.get("method")
            if method is not None:
                server.calls.append((request.match_info["version"], method))
            if method not in (None, "info", "auth/login"):
                header = request.headers.get("Authorization", "")
                if header.removeprefix("Bearer ") not in server.tokens:
                    return _error(401, "invalid_token", "Invalid or expired access token")
            response: web.StreamResponse = await handler(request)
            return response

        async def login(request: web.Request) -> web.Response:
            header = request.headers.get("Authorization", "")
            user, _, password = (
                base64.b64decode(header.removeprefix("Basic ")).decode().partition(":")
            )
            if not header.startswith("Basic ") or server.users.get(user) != password:
                return _error(401, "invalid_request", "Invalid username or password")
            server.logins += 1
            return web.json_response({"access_token": server.issue_token(), "expires_in": 3600})

        async def info(request: web.Request) -> web.Response:
            data = json.loads((await dummy.info(request)).text or "{}")
            if request.match_info["version"] == "v2":
                data["specs"] = "2.0.0.2"
            data["authType"] = ["basic"]
            data["methods"] = ["auth/login", *data["methods"]]
            return web.json_response(data)

        async def credentials_list(request: web.Request) -> web.StreamResponse:
            return await dummy.credentials_list(_JsonRequest(await request.json()))

        async def credentials_info(request: web.Request) -> web.Response:
            params = await request.json()
            data = json.loads((await dummy.credentials_info(_JsonRequest(params))).text or "{}")
            explicit = params.get("credentialID") in server.pins
            if request.match_info["version"] == "v2":
                del data["authMode"]
                data["auth"] = {"mode": "explicit" if explicit else "implicit"}
                if explicit:
                    data["auth"]["objects"] = [{"type": "Password", "id": "PIN", "format": "N"}]
            elif explicit:
                data["authMode"] = "explicit"
                data["PIN"] = {"presence": "true", "format": "N"}
            return web.json_response(data)

        async def authorize(request: web.Request) -> web.StreamResponse:
            params = await request.json()
            if request.match_info["version"] == "v2":
                auth_data = {d["id"]: d["value"] for d in params.pop("authData", [])}
                pin = auth_data.get("PIN")
                params["hash"] = params.pop("hashes", None)
                params.pop("hashAlgorithmOID", None)
            else:
                pin = params.pop("PIN", None)
            expected = server.pins.get(params.get("credentialID"))
            if expected is not None and pin != expected:
                return _error(400, "invalid_pin", "The PIN is invalid")
            return await dummy.credentials_authorize(_JsonRequest(params))

        async def sign_hash(request: web.Request) -> web.StreamResponse:
            params = await request.json()
            if request.match_info["version"] == "v2":
                params["hash"] = params.pop("hashes", None)
                if "hashAlgorithmOID" in params:
                    params["hashAlgo"] = params.pop("hashAlgorithmOID")
            return await dummy.signatures_sign_hash(_JsonRequest(params))

        async def slow(request: web.Request) -> web.Response:
            await asyncio.sleep(2)
            return web.json_response({})

        handlers = {
            "info": info,
            "auth/login": login,
            "credentials/list": credentials_list,
            "credentials/info": credentials_info,
            "credentials/authorize": authorize,
            "signatures/signHash": sign_hash,
        }

        async def dispatch(request: web.Request) -> web.StreamResponse:
            handler = handlers.get(request.match_info["method"])
            if handler is None:
                raise web.HTTPNotFound()
            return await handler(request)

        app = web.Application(middlewares=[bearer_tokens])
        app.add_routes(
            [
                web.post(r"/csc/{version:v[12]}/{method:.+}", dispatch),
                web.post(r"/slow/csc/{version:v[12]}/{method:.+}", slow),
            ]
        )
        return app

    def start(self, timeout: float = 10.0) -> CscTestServer:
        app = self._build_app()
        ready = threading.Event()
        failure: list[BaseException] = []

        async def serve() -> None:
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            self._stopped = asyncio.Event()
            try:
                await web.TCPSite(runner, self.host, 0).start()  # a free port
                self.port = runner.addresses[0][1]
                ready.set()
                await self._stopped.wait()
            finally:
                await runner.cleanup()

        def run() -> None:
            self._loop = loop = asyncio.new_event_loop()
            try:
                loop.run_until_complete(serve())
            except BaseException as exc:  # report start-up failures to start()
                failure.append(exc)
                ready.set()
            finally:
                loop.close()

        self._thread = threading.Thread(target=run, name="csc-test-server", daemon=True)
        self._thread.start()
        if not ready.wait(timeout):
            raise TimeoutError("the CSC test server did not start")
        if failure:
            raise failure[0]
        return self

    def stop(self) -> None:
        thread, loop, stopped = self._thread, self._loop, self._stopped
        if thread is None:
            return
        if loop is not None and stopped is not None and not loop.is_closed():
            loop.call_soon_threadsafe(stopped.set)
        thread.join(10)
        self._thread = None


# -- fixtures ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def signatory(demo_pki: DemoPki) -> DemoSignatory:
    return demo_pki.signatories[0]


@pytest.fixture(scope="module")
def credential_id(signatory: DemoSignatory) -> str:
    return f"{ARCH_LABEL}/{signatory.key_id}"  # how the dummy names credentials


@pytest.fixture(scope="module")
def csc_server(demo_pki: DemoPki, credential_id: str) -> Iterator[CscTestServer]:
    server = CscTestServer(
        demo_pki.certomancer_config(), users={USERNAME: PASSWORD}, pins={credential_id: PIN}
    ).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["v2", "v1"])
def client(request: pytest.FixtureRequest, csc_server: CscTestServer) -> Iterator[CscClient]:
    with CscClient(
        csc_server.base_url,
        username=USERNAME,
        password=PASSWORD,
        api_version=request.param,
        timeout=5,
    ) as csc:
        yield csc


@pytest.fixture(scope="module")
def unsigned_pdf(sample_pdf: bytes) -> bytes:
    return prepare_for_signing(sample_pdf, [FieldSpec(FIELD)])


def _verify_rsa(cert_der: bytes, digest: bytes, signature: bytes) -> None:
    public_key = pyca_x509.load_der_x509_certificate(cert_der).public_key()
    assert isinstance(public_key, rsa.RSAPublicKey)
    public_key.verify(signature, digest, padding.PKCS1v15(), Prehashed(hashes.SHA256()))


# -- the client -------------------------------------------------------------------------


def test_info_needs_no_login(client: CscClient, csc_server: CscTestServer) -> None:
    logins = csc_server.logins
    info = client.info()
    assert info.specs.startswith("2." if client.api_version == "v2" else "1.")
    assert "signatures/signHash" in info.methods
    assert csc_server.logins == logins


def test_credentials_list_and_info(
    client: CscClient, credential_id: str, demo_pki: DemoPki, signatory: DemoSignatory
) -> None:
    assert credential_id in client.list_credentials()
    credential = client.credential_info(credential_id)
    assert credential.signing_cert.dump() == demo_pki.certificate(signatory.key_id).dump()
    chain = {c.dump() for c in credential.chain}
    assert demo_pki.intermediate_cert.dump() in chain
    assert credential.key_type == "rsa"
    assert credential.key_status == "enabled"
    assert credential.auth_mode == "explicit"
    assert credential.hash_pinning_required
    assert credential.default_sign_algo() == "sha256_rsa"
    assert {c.dump() for c in credential.cert_store()} >= chain


def test_authorize_and_sign_hashes(client: CscClient, credential_id: str) -> None:
    digests = [hashlib.sha256(b"list intencyjny").digest(), hashlib.sha256(b"e-strategia").digest()]
    sad = client.authorize(credential_id, digests, pin=PIN)
    values = client.sign_hash(credential_id, digests, sad=sad, sign_algo="sha256_rsa")
    cert = client.credential_info(credential_id).signing_cert.dump()
    assert len(values) == 2
    for digest, value in zip(digests, values, strict=True):
        _verify_rsa(cert, digest, value)


def test_a_sad_signs_only_the_hashes_it_was_issued_for(
    client: CscClient, credential_id: str
) -> None:
    sad = client.authorize(credential_id, [hashlib.sha256(b"approved").digest()], pin=PIN)
    with pytest.raises(RemoteSignerError) as caught:
        client.sign_hash(
            credential_id, [hashlib.sha256(b"other").digest()], sad=sad, sign_algo="sha256_rsa"
        )
    assert caught.value.status == 400
    assert caught.value.endpoint == "signatures/signHash"


def test_wrong_pin_is_a_key_access_error(client: CscClient, credential_id: str) -> None:
    with pytest.raises(KeyAccessError, match="invalid_pin"):
        client.authorize(credential_id, [hashlib.sha256(b"x").digest()], pin="0000")


def test_wrong_password_is_a_key_access_error(csc_server: CscTestServer) -> None:
    with (
        CscClient(csc_server.base_url, username=USERNAME, password="wrong") as csc,
        pytest.raises(KeyAccessError, match="auth/login failed \\(401"),
    ):
        csc.list_credentials()


def test_bearer_token(csc_server: CscTestServer, credential_id: str) -> None:
    with CscClient(csc_server.base_url, token=csc_server.issue_token()) as csc:
        assert credential_id in csc.list_credentials()
    with (
        CscClient(csc_server.base_url, token="forged") as csc,
        pytest.raises(KeyAccessError, match="invalid_token"),
    ):
        csc.list_credentials()


def test_an_expired_token_is_renewed_by_logging_in_again(
    client: CscClient, csc_server: CscTestServer, credential_id: str
) -> None:
    client.list_credentials()
    logins = csc_server.logins
    csc_server.tokens.clear()  # the service forgets every token
    assert credential_id in client.list_credentials()
    assert csc_server.logins == logins + 1


def test_unknown_credential_is_a_remote_signer_error(client: CscClient) -> None:
    with pytest.raises(RemoteSignerError) as caught:
        client.credential_info(f"{ARCH_LABEL}/nobody")
    assert caught.value.status == 404


def test_unreachable_service_is_a_remote_signer_error() -> None:
    import socket

    with socket.socket() as sock:  # a port that nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with (
        CscClient(f"http://127.0.0.1:{port}", token="t", timeout=2) as csc,
        pytest.raises(RemoteSignerError, match="cannot reach") as caught,
    ):
        csc.info()
    assert caught.value.status is None


def test_slow_service_times_out(csc_server: CscTestServer) -> None:
    with (
        CscClient(f"{csc_server.base_url}/slow", token="t", timeout=0.3) as csc,
        pytest.raises(RemoteSignerError, match="timed out"),
    ):
        csc.info()


# -- CscKey: in-process signing, the provider signs --------------------------------------


@pytest.mark.parametrize("api_version", ["v2", "v1"])
def test_csc_key_signs_b_lta_that_validates(
    api_version: ApiVersion,
    csc_server: CscTestServer,
    credential_id: str,
    unsigned_pdf: bytes,
    service_urls: ServiceUrls,
    trust_settings: TrustSettings,
    signatory: DemoSignatory,
    pdfsig: Callable[[bytes], Any],
) -> None:
    csc = CscClient(
        csc_server.base_url,
        username=USERNAME,
        password=PASSWORD,
        api_version=api_version,
    )
    with CscKey.open(csc, credential_id, pin=PIN, owns_client=True) as key:
        assert isinstance(key.signer(), CSCSigner)
        assert key.signer() is key.signer()
        before = len(csc_server.calls)
        signed = sign_pdf(
            unsigned_pdf,
            key=key,
            field_name=FIELD,
            profile=signatory.profile(reason="Podpisanie listu intencyjnego"),
            trust=trust_settings,
            level=PadesLevel.B_LTA,
            services=service_urls,
        )
    assert csc_server.calls[before:] == [
        (api_version, "credentials/authorize"),
        (api_version, "signatures/signHash"),
    ]
    report = validate_pdf(signed, trust=trust_settings)
    assert report.valid, [s.problems for s in report.signatures]
    [signature] = report.signatures
    assert signature.signer == signatory.full_name
    assert signature.pades_level is PadesLevel.B_LTA
    [poppler] = pdfsig(signed).regular
    assert poppler.valid, poppler.validation


def test_csc_key_with_wrong_pin_signs_nothing(
    client: CscClient,
    credential_id: str,
    unsigned_pdf: bytes,
    service_urls: ServiceUrls,
    trust_settings: TrustSettings,
    signatory: DemoSignatory,
) -> None:
    before = bytes(unsigned_pdf)
    with (
        CscKey.open(client, credential_id, pin="0000") as key,
        pytest.raises(KeyAccessError, match="invalid_pin"),
    ):
        sign_pdf(
            unsigned_pdf,
            key=key,
            field_name=FIELD,
            profile=signatory.profile(),
            trust=trust_settings,
            level=PadesLevel.B_LTA,
            services=service_urls,
        )
    assert unsigned_pdf == before


def test_closed_csc_key_refuses(client: CscClient, credential_id: str) -> None:
    key = CscKey.open(client, credential_id, pin=PIN)
    key.close()
    key.close()
    with pytest.raises(KeyAccessError, match="closed"):
        key.signer()
    with pytest.raises(KeyAccessError, match="closed"):
        key.sign_digest(hashlib.sha256(b"x").digest())
    assert client.list_credentials()  # the key did not own the client


# -- the hash-only flow: only the digest travels ------------------------------------------


def test_hash_only_flow_b_lta_that_validates(
    client: CscClient,
    credential_id: str,
    unsigned_pdf: bytes,
    service_urls: ServiceUrls,
    trust_settings: TrustSettings,
    signatory: DemoSignatory,
    pdfsig: Callable[[bytes], Any],
) -> None:
    credential = client.credential_info(credential_id)
    prepared = prepare_external_signature(
        unsigned_pdf,
        field_name=FIELD,
        signer_cert=credential.signing_cert,
        chain=credential.chain,
        profile=signatory.profile(reason="Podpisanie listu intencyjnego"),
        trust=trust_settings,
        level=PadesLevel.B_LTA,
        services=service_urls,
    )
    # ...the state is stored, the signer confirms on the provider's side, then:
    sad = client.authorize(credential_id, [prepared.digest_to_sign], pin=PIN)
    [value] = client.sign_hash(
        credential_id,
        [prepared.digest_to_sign],
        sad=sad,
        sign_algo=prepared.signature_algorithm_oid,
        hash_algorithm=prepared.digest_algorithm,
    )
    signed = complete_external_signature(
        prepared.state, value, trust=trust_settings, services=service_urls
    )
    report = validate_pdf(signed, trust=trust_settings)
    assert report.valid, [s.problems for s in report.signatures]
    assert report.signatures[0].pades_level is PadesLevel.B_LTA
    [poppler] = pdfsig(signed).regular
    assert poppler.valid, poppler.validation


def test_csc_key_sign_digest_feeds_the_hash_only_flow(
    client: CscClient,
    credential_id: str,
    unsigned_pdf: bytes,
    service_urls: ServiceUrls,
    trust_settings: TrustSettings,
    signatory: DemoSignatory,
) -> None:
    with CscKey.open(client, credential_id, pin=PIN) as key:
        prepared = prepare_external_signature(
            unsigned_pdf,
            field_name=FIELD,
            signer_cert=key.signing_cert,
            chain=key.credential.chain,
            profile=signatory.profile(),
            trust=trust_settings,
            level=PadesLevel.B_LTA,
            services=service_urls,
        )
        value = key.sign_digest(prepared.digest_to_sign, prepared.digest_algorithm)
    signed = complete_external_signature(
        prepared.state, value, trust=trust_settings, services=service_urls
    )
    report = validate_pdf(signed, trust=trust_settings)
    assert report.valid, [s.problems for s in report.signatures]
