"""The domain error tree, and the codes every error and refusal carries.

Services below ``web/`` raise only these; ``web/errors.py`` maps them to HTTP in one place
and the CLI prints them. Nothing below ``web/`` raises ``HTTPException``.

    EstrategiaError(code, **params)
     ├── NotFound                 404  the thing does not exist, or the caller may not know it does
     ├── NotPermitted             403  the caller is known but their role does not allow this
     ├── TransitionNotAllowed     409  the action does not exist in the current status
     ├── GuardRefused(code)       409  the action exists but a guard refused it (a ``Refusal``)
     ├── ConflictingChange        409  someone else changed the document first (optimistic lock)
     ├── InvalidInput(field, code)
     │                            422  a named field or upload is wrong; nothing was stored
     ├── TooManyAttempts          429  refused for a while (``retry_after_s``): login throttle
     └── RenderingFailed          502  the converter crashed or timed out; nothing was stored

Every error carries a stable ``code`` (an ``ErrorCode``, or a ``states.Refusal`` for a
guard) and the ``params`` its message quotes; ``workflow.i18n.render_message`` turns them
into a sentence in Polish or English. ``str(error)`` is the English sentence, for logs.
A code is required: there is no free-text reason (a ``str`` in its place is a type error).

One enum for the whole application rather than one per area (Saleor's style): the API,
CLI and pages share one catalogue whose ``msgid`` is the code, so one namespace keeps codes
unique and lets a test check that each has both translations. Members are grouped by area
below; the values are the API's contract, never renamed.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from workflow.i18n import render_message
from workflow.states import Action, Refusal, Status


class ErrorCode(StrEnum):
    # The generic code of each class: its ``kind``.
    NOT_FOUND = "not_found"
    NOT_PERMITTED = "not_permitted"
    TRANSITION_NOT_ALLOWED = "transition_not_allowed"
    GUARD_REFUSED = "guard_refused"
    CONFLICTING_CHANGE = "conflicting_change"
    INVALID_INPUT = "invalid_input"
    RENDERING_FAILED = "rendering_failed"
    TOO_MANY_REQUESTS = "too_many_requests"

    # web: the HTTP edge
    BAD_REQUEST = "bad_request"
    BODY_UNREADABLE = "body_unreadable"
    BODY_TOO_LARGE = "body_too_large"
    ROUTE_NOT_FOUND = "route_not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    HTTP_ERROR = "http_error"
    INTERNAL_ERROR = "internal_error"
    AUTHENTICATION_REQUIRED = "authentication_required"
    BAD_CREDENTIALS = "bad_credentials"
    CSRF_FAILED = "csrf_failed"
    CROSS_ORIGIN = "cross_origin"
    SESSION_REQUIRED = "session_required"
    JSON_REQUIRED = "json_required"
    NOT_READY = "not_ready"
    DATABASE_NOT_MIGRATED = "database_not_migrated"
    # request validation (pydantic's error types, by meaning)
    VALUE_REQUIRED = "value_required"
    VALUE_TOO_SHORT = "value_too_short"
    VALUE_TOO_LONG = "value_too_long"
    VALUE_TOO_SMALL = "value_too_small"
    VALUE_TOO_LARGE = "value_too_large"
    WRONG_TYPE = "wrong_type"
    NOT_AN_INTEGER = "not_an_integer"
    NOT_A_DATE = "not_a_date"
    NOT_ONE_OF = "not_one_of"
    UNKNOWN_FIELD = "unknown_field"
    BODY_NOT_JSON = "body_not_json"
    INVALID_VALUE = "invalid_value"

    # signatures: the web and CLI edges map ``signatures.errors`` to these
    SIGNING_KEY_UNUSABLE = "signing_key_unusable"
    CERTIFICATE_EXPIRED = "certificate_expired"
    CERTIFICATE_NOT_YET_VALID = "certificate_not_yet_valid"
    CERTIFICATE_REVOKED = "certificate_revoked"
    CERTIFICATE_UNTRUSTED = "certificate_untrusted"
    CERTIFICATE_UNUSABLE = "certificate_unusable"
    TIMESTAMP_UNAVAILABLE = "timestamp_unavailable"
    REVOCATION_UNAVAILABLE = "revocation_unavailable"
    REMOTE_SIGNER_FAILED = "remote_signer_failed"
    PDF_UNREADABLE = "pdf_unreadable"
    SIGNATURE_FIELD_UNUSABLE = "signature_field_unusable"
    EXTERNAL_SIGNATURE_INVALID = "external_signature_invalid"
    ARCHIVE_RENEWAL_POINTLESS = "archive_renewal_pointless"
    SIGNATURE_PROBLEM = "signature_problem"
    TRUST_SERVICE_UNAVAILABLE = "trust_service_unavailable"
    # signing: a PDF signed elsewhere and uploaded (workflow.signing.upload)
    NOT_A_PDF = "not_a_pdf"
    SIGNED_UPLOAD_NOT_AN_UPDATE = "signed_upload_not_an_update"
    SIGNED_UPLOAD_NO_SIGNATURE = "signed_upload_no_signature"
    SIGNED_UPLOAD_SEVERAL_SIGNATURES = "signed_upload_several_signatures"
    SIGNED_UPLOAD_WRONG_FIELD = "signed_upload_wrong_field"
    SIGNED_UPLOAD_CONTENT_CHANGED = "signed_upload_content_changed"
    SIGNED_UPLOAD_INVALID = "signed_upload_invalid"
    SIGNED_UPLOAD_WRONG_SIGNER = "signed_upload_wrong_signer"
    SIGNED_UPLOAD_NEEDS_TIMESTAMP = "signed_upload_needs_timestamp"
    # signing: remote signing at the provider (workflow.signing.remote)
    REMOTE_SIGNING_NOT_CONFIGURED = "remote_signing_not_configured"
    REMOTE_CREDENTIAL_NOT_FOUND = "remote_credential_not_found"

    # rendering
    CONVERSION_TIMEOUT = "conversion_timeout"
    CONVERTER_CLOSED = "converter_closed"
    CONVERTER_CRASHED = "converter_crashed"
    CONVERTER_OUTPUT_INVALID = "converter_output_invalid"

    # input in general
    TEXT_REQUIRED = "text_required"
    CONTROL_CHARACTERS = "control_characters"
    NOT_UTF8 = "not_utf8"
    NOT_BASE64 = "not_base64"
    NESTED_TOO_DEEPLY = "nested_too_deeply"
    FILE_TOO_LARGE = "file_too_large"
    FORM_UNREADABLE = "form_unreadable"
    PDF_BODY_REQUIRED = "pdf_body_required"

    # identity
    USER_NOT_FOUND = "user_not_found"
    API_TOKEN_NOT_FOUND = "api_token_not_found"  # noqa: S105  # a code, not a secret
    SESSION_NOT_FOUND = "session_not_found"
    LOGIN_RATE_LIMITED = "login_rate_limited"
    VERIFY_RATE_LIMITED = "verify_rate_limited"
    SESSIONS_NEED_CHAMBER_ADMIN = "sessions_need_chamber_admin"
    CURRENT_PASSWORD_WRONG = "current_password_wrong"  # noqa: S105  # a code, not a secret
    PASSWORD_TOO_SHORT = "password_too_short"  # noqa: S105  # a code, not a secret
    PASSWORD_TOO_LONG = "password_too_long"  # noqa: S105  # a code, not a secret
    PASSWORD_TOO_SIMPLE = "password_too_simple"  # noqa: S105  # a code, not a secret
    PASSWORD_TOO_COMMON = "password_too_common"  # noqa: S105  # a code, not a secret
    PASSWORD_CONTAINS_LOGIN = "password_contains_login"  # noqa: S105  # a code, not a secret
    PASSWORD_UNCHANGED = "password_unchanged"  # noqa: S105  # a code, not a secret

    # registry: the administration of people (workflow.registry.people)
    PEOPLE_NEED_CHAMBER_ADMIN = "people_need_chamber_admin"
    PERSON_NAME_REQUIRED = "person_name_required"
    EMAIL_INVALID = "email_invalid"
    EMAIL_TAKEN = "email_taken"
    ROLE_NOT_CHOSEN = "role_not_chosen"
    ORGANISATION_NOT_CHOSEN = "organisation_not_chosen"
    MEMBERSHIP_NOT_FOUND = "membership_not_found"
    CANNOT_DEACTIVATE_SELF = "cannot_deactivate_self"

    # template library
    TEMPLATE_NOT_FOUND = "template_not_found"
    TEMPLATE_CHANGED = "template_changed"
    TEMPLATE_KIND_DIFFERS = "template_kind_differs"
    TEMPLATE_NAME_INVALID = "template_name_invalid"
    TEMPLATE_UPLOAD_NEEDS_ADMIN = "template_upload_needs_admin"
    TEMPLATE_FILE_REQUIRED = "template_file_required"
    SCHEMA_NOT_JSON = "schema_not_json"
    SCHEMA_NOT_OBJECT = "schema_not_object"

    # documents
    DOCUMENT_NOT_FOUND = "document_not_found"
    DOCUMENT_CHANGED = "document_changed"
    SIGNED_PDF_NOT_FOUND = "signed_pdf_not_found"
    COMMENT_NEEDS_ROLE = "comment_needs_role"
    PDF_NOT_RENDERED = "pdf_not_rendered"
    PDF_RENDERING = "pdf_rendering"

    # jobs: scheduled checks
    CHECKS_NEED_CHAMBER_ADMIN = "checks_need_chamber_admin"
    # audit anchors (workflow.archive.anchors) and evidence packages (workflow.archive.evidence)
    AUDIT_CHAIN_EMPTY = "audit_chain_empty"
    AUDIT_HEAD_ANCHORED = "audit_head_anchored"
    AUDIT_ANCHOR_NO_TSA = "audit_anchor_no_tsa"
    EVIDENCE_PACKAGE_UNREADABLE = "evidence_package_unreadable"

    # review
    EDIT_BY_PATCH = "edit_by_patch"
    SIGN_BY_SIGNING_STEPS = "sign_by_signing_steps"
    ARCHIVE_BY_ARCHIVE_STEP = "archive_by_archive_step"

    # template schema
    SCHEMA_ENTRY_NOT_OBJECT = "schema_entry_not_object"
    SCHEMA_FIELDS_NOT_LIST = "schema_fields_not_list"
    SCHEMA_NAME_INVALID = "schema_name_invalid"
    SCHEMA_NAME_RESERVED = "schema_name_reserved"
    SCHEMA_TYPE_INVALID = "schema_type_invalid"
    SCHEMA_LABEL_REQUIRED = "schema_label_required"
    SCHEMA_NOT_TEXT = "schema_not_text"
    SCHEMA_NOT_BOOLEAN = "schema_not_boolean"
    SCHEMA_ITEMS_REQUIRED = "schema_items_required"
    SCHEMA_COLUMNS_REQUIRED = "schema_columns_required"
    SCHEMA_NOT_POSITIVE_INTEGER = "schema_not_positive_integer"
    SCHEMA_KEY_NOT_APPLICABLE = "schema_key_not_applicable"
    SCHEMA_MIN_ABOVE_MAX = "schema_min_above_max"
    SCHEMA_UNKNOWN_KEY = "schema_unknown_key"
    SCHEMA_DUPLICATE_NAME = "schema_duplicate_name"
    SCHEMA_OPTIONS_REQUIRED = "schema_options_required"
    SCHEMA_OPTION_VALUE_INVALID = "schema_option_value_invalid"
    SCHEMA_DUPLICATE_OPTION = "schema_duplicate_option"

    # field values
    VALUES_NOT_OBJECT = "values_not_object"
    UNKNOWN_COLUMN = "unknown_column"
    LIST_REQUIRED = "list_required"
    NOT_A_LIST = "not_a_list"
    TOO_FEW_ITEMS = "too_few_items"
    TOO_MANY_ITEMS = "too_many_items"
    ITEM_EMPTY = "item_empty"
    ROW_NOT_OBJECT = "row_not_object"
    NOT_A_BOOLEAN = "not_a_boolean"
    NOT_AN_OPTION = "not_an_option"
    NOT_TEXT = "not_text"
    NOT_SINGLE_LINE = "not_single_line"
    TEXT_TOO_LONG = "text_too_long"
    DATE_WITH_TIME = "date_with_time"
    NOT_A_CALENDAR_DATE = "not_a_calendar_date"
    INTEGER_TOO_LARGE = "integer_too_large"
    NOT_AN_AMOUNT = "not_an_amount"
    AMOUNT_TOO_LARGE = "amount_too_large"
    AMOUNT_TOO_PRECISE = "amount_too_precise"
    SYSTEM_VARIABLE_AS_FIELD = "system_variable_as_field"

    # templates: rendering
    TEMPLATE_UNREADABLE = "template_unreadable"
    TEMPLATE_VALUE_LIMIT = "template_value_limit"
    TEMPLATE_OUTPUT_LIMIT = "template_output_limit"
    TEMPLATE_TIME_LIMIT = "template_time_limit"
    TEMPLATE_ITEM_LIMIT = "template_item_limit"
    TEMPLATE_NUMBER_LIMIT = "template_number_limit"
    TEMPLATE_NOT_ALLOWED = "template_not_allowed"
    TEMPLATE_NESTED_TOO_DEEPLY = "template_nested_too_deeply"
    TEMPLATE_UNDEFINED = "template_undefined"
    TEMPLATE_SYNTAX_ERROR = "template_syntax_error"
    TEMPLATE_FAILED = "template_failed"
    TEMPLATE_LINT_FAILED = "template_lint_failed"

    # templates: lint problems (each in a TEMPLATE_LINT_FAILED)
    LINT_UNCLOSED_TAG = "lint_unclosed_tag"
    LINT_POLISH_QUOTES = "lint_polish_quotes"
    LINT_SYNTAX_ERROR = "lint_syntax_error"
    LINT_NESTED_TOO_DEEPLY = "lint_nested_too_deeply"
    LINT_UNDECLARED_VARIABLE = "lint_undeclared_variable"
    LINT_UNUSED_FIELD = "lint_unused_field"
    LINT_UNKNOWN_ATTRIBUTE = "lint_unknown_attribute"
    LINT_CHOICE_ATTRIBUTE = "lint_choice_attribute"
    LINT_UNKNOWN_FILTER = "lint_unknown_filter"
    LINT_UNKNOWN_TEST = "lint_unknown_test"
    LINT_NAME_UNAVAILABLE = "lint_name_unavailable"
    LINT_NO_INCLUDE = "lint_no_include"
    LINT_INTERNAL_ATTRIBUTE = "lint_internal_attribute"
    LINT_INTERNAL_KEY = "lint_internal_key"
    LINT_COMPUTED_KEY = "lint_computed_key"
    LINT_ATTR_NEEDS_NAME = "lint_attr_needs_name"
    LINT_CONSTANT_ATTRIBUTE = "lint_constant_attribute"
    LINT_MUTATOR = "lint_mutator"
    LINT_FORMAT_INTERNAL = "lint_format_internal"
    LINT_RANGE_TOO_LONG = "lint_range_too_long"

    # documents
    PARTY_REQUIRED = "party_required"
    ORGANISATION_NOT_FOUND = "organisation_not_found"
    LISTED_TWICE = "listed_twice"
    NOT_A_PERSON_OF = "not_a_person_of"
    PERSON_NOT_FOUND = "person_not_found"
    SIGNATORY_ORGANISATION_REQUIRED = "signatory_organisation_required"
    SIGNATORY_NOT_OF_PARTY = "signatory_not_of_party"
    SIGNATORY_FUNCTION_REQUIRED = "signatory_function_required"
    AUTHOR_ROLE_REQUIRED = "author_role_required"
    NOT_AUTHOR_IN_ORGANISATION = "not_author_in_organisation"
    NUMBERING_CHANGED = "numbering_changed"
    VERSION_NOT_FOUND = "version_not_found"

    # signing
    SIGNED_PDF_NOT_INCREMENTAL = "signed_pdf_not_incremental"
    SIGNATURE_MISSING = "signature_missing"
    NEW_SIGNATURE_INVALID = "new_signature_invalid"
    CERTIFICATE_NOT_DESIGNATED = "certificate_not_designated"
    CERTIFICATE_CHAIN_UNREADABLE = "certificate_chain_unreadable"
    CERTIFICATE_CHAIN_EMPTY = "certificate_chain_empty"
    SIGNING_SESSION_NOT_FOUND = "signing_session_not_found"
    SIGNATURE_LEVEL_INVALID = "signature_level_invalid"
    DEMO_PKI_MISSING = "demo_pki_missing"
    TRUST_ROOTS_REQUIRED = "trust_roots_required"
    FILE_UNREADABLE = "file_unreadable"
    NOT_A_CERTIFICATE = "not_a_certificate"
    DEMO_ENVIRONMENT_ELSEWHERE = "demo_environment_elsewhere"
    DEMO_KEYS_ONLY_IN_DEMO = "demo_keys_only_in_demo"
    NO_DEMO_KEY = "no_demo_key"

    # command line
    TEMPLATE_FILE_MISSING = "template_file_missing"
    SYSTEM_VARIABLES_INVALID = "system_variables_invalid"
    DATA_FILE_UNREADABLE = "data_file_unreadable"
    DATA_NOT_OBJECT = "data_not_object"
    OUTPUT_SUFFIX = "output_suffix"

    # search (workflow.search)
    SEARCH_QUERY_TOO_LONG = "search_query_too_long"
    SEARCH_FILTER_UNKNOWN = "search_filter_unknown"

    # uploaded .docx files
    DOCX_NAME_REQUIRED = "docx_name_required"
    DOCX_NOT_ZIP = "docx_not_zip"
    DOCX_TOO_MANY_ENTRIES = "docx_too_many_entries"
    DOCX_DUPLICATE_ENTRY = "docx_duplicate_entry"
    DOCX_ENCRYPTED = "docx_encrypted"
    DOCX_ZIP_BOMB = "docx_zip_bomb"
    DOCX_UNPACKS_TOO_LARGE = "docx_unpacks_too_large"
    DOCX_PART_MISSING = "docx_part_missing"
    DOCX_MACROS = "docx_macros"
    DOCX_UNSAFE_PATH = "docx_unsafe_path"
    DOCX_CORRUPT_ENTRY = "docx_corrupt_entry"
    DOCX_EXTERNAL_REFERENCE = "docx_external_reference"
    DOCX_DTD = "docx_dtd"
    DOCX_XML_INVALID = "docx_xml_invalid"

    # rendering: the converter
    CONVERTER_NOT_STARTED = "converter_not_started"

    # pages and previews
    WORKING_DRAFT_CHANGED = "working_draft_changed"
    SIGNING_PDF_NOT_FOUND = "signing_pdf_not_found"
    PAGE_NOT_FOUND = "page_not_found"
    LOCAL_GOVERNMENT_REQUIRED = "local_government_required"
    FILE_NOT_FOUND = "file_not_found"
    # archive (workflow.archive): metadata, records, retention and disposal
    TERYT_INVALID = "teryt_invalid"
    ARCHIVE_CATEGORY_UNKNOWN = "archive_category_unknown"
    ARCHIVE_YEARS_REQUIRED = "archive_years_required"
    ARCHIVE_YEARS_FOR_A = "archive_years_for_a"
    ARCHIVE_YEARS_OUT_OF_RANGE = "archive_years_out_of_range"
    ARCHIVE_JRWA_INVALID = "archive_jrwa_invalid"
    ARCHIVE_HOLD_REASON_REQUIRED = "archive_hold_reason_required"
    ARCHIVE_RECORD_NOT_FOUND = "archive_record_not_found"
    ARCHIVE_ALREADY_ARCHIVED = "archive_already_archived"
    ARCHIVE_NEEDS_ARCHIVIST = "archive_needs_archivist"
    ARCHIVE_FILE_DAMAGED = "archive_file_damaged"
    ARCHIVE_FILE_MISSING = "archive_file_missing"
    ARCHIVE_RECORD_DISPOSED = "archive_record_disposed"
    DISPOSAL_UNDER_HOLD = "disposal_under_hold"
    DISPOSAL_CATEGORY_A = "disposal_category_a"
    DISPOSAL_NOT_DUE = "disposal_not_due"
    DISPOSAL_CONSENT_REQUIRED = "disposal_consent_required"
    DISPOSAL_SAME_PERSON = "disposal_same_person"
    DISPOSAL_NOT_FOUND = "disposal_not_found"
    DISPOSAL_WRONG_STATE = "disposal_wrong_state"
    DISPOSAL_ALREADY_PROPOSED = "disposal_already_proposed"
    DISPOSAL_REASON_REQUIRED = "disposal_reason_required"
    # archive: importing agreements signed before this system (workflow.archive.importing)
    ARCHIVE_META_NOT_JSON = "archive_meta_not_json"
    ARCHIVE_IMPORT_META_FOR_FOLDER = "archive_import_meta_for_folder"


Code = ErrorCode | Refusal
"""What an error's ``code`` may be."""


class EstrategiaError(Exception):
    """Base of every error the services raise on purpose: a ``code`` and its ``params``."""

    kind: ClassVar[ErrorCode] = ErrorCode.BAD_REQUEST
    """The generic code of the class (``web/errors.py`` reports it as ``kind``)."""

    def __init__(self, code: Code, /, **params: object) -> None:
        self.code: Code = code
        self.params: dict[str, object] = params
        super().__init__(self._describe())

    def message(self, lang: str) -> str:
        """The sentence for a user, in ``lang``."""
        return render_message(self.code, self.params, lang)

    @property
    def reason(self) -> str:
        """The English sentence; for logs, not for users."""
        return self.message("en")

    def _describe(self) -> str:
        return self.reason


class NotFound(EstrategiaError):
    kind = ErrorCode.NOT_FOUND


class NotPermitted(EstrategiaError):
    kind = ErrorCode.NOT_PERMITTED


class TransitionNotAllowed(EstrategiaError):
    kind = ErrorCode.TRANSITION_NOT_ALLOWED

    def __init__(self, action: str, status: str, allowed: list[str]) -> None:
        self.action = _as(Action, action)
        self.status = _as(Status, status)
        self.allowed = [_as(Action, a) for a in allowed]
        super().__init__(
            ErrorCode.TRANSITION_NOT_ALLOWED,
            action=self.action,
            status=self.status,
            allowed=self.allowed,
        )


class GuardRefused(EstrategiaError):
    kind = ErrorCode.GUARD_REFUSED


class ConflictingChange(EstrategiaError):
    kind = ErrorCode.CONFLICTING_CHANGE


class InvalidInput(EstrategiaError):
    kind = ErrorCode.INVALID_INPUT

    def __init__(self, field: str, code: Code, /, **params: object) -> None:
        self.field = field
        super().__init__(code, field=field, **params)

    def _describe(self) -> str:
        return f"{self.field}: {self.reason}"


class TooManyAttempts(EstrategiaError):
    """Refused for a while (the login throttle); ``retry_after_s`` says how long."""

    kind = ErrorCode.TOO_MANY_REQUESTS

    @property
    def retry_after_s(self) -> int:
        value = self.params.get("retry_after_s", 1)
        return value if isinstance(value, int) else 1


class RenderingFailed(EstrategiaError):
    kind = ErrorCode.RENDERING_FAILED

    def _describe(self) -> str:
        return f"rendering failed: {self.reason}"


def _as(enum: type[StrEnum], value: str) -> str:
    """``value`` as a member of ``enum`` (so that messages show its label), if it is one."""
    try:
        return enum(value)
    except ValueError:
        return value
