"""What a document's template sees: the author's field values plus the system variables
(``document``, ``parties``, ``signatories``; see rendering.engine.SYSTEM_VARIABLES)."""

from __future__ import annotations

from collections.abc import Mapping

from workflow.models import Document, DocumentVersion, OrganisationKind
from workflow.polish.formatting import to_warsaw
from workflow.rendering.engine import DocumentInfo, Party, Signatory, build_context

KIND_LABELS_PL = {
    OrganisationKind.CHAMBER: "izba gospodarcza",
    OrganisationKind.CHAMBER_BRANCH: "oddział regionalny izby",
    OrganisationKind.GMINA_MIEJSKA: "gmina miejska",
    OrganisationKind.GMINA_WIEJSKA: "gmina wiejska",
    OrganisationKind.GMINA_MIEJSKO_WIEJSKA: "gmina miejsko-wiejska",
    OrganisationKind.MIASTO_NA_PRAWACH_POWIATU: "miasto na prawach powiatu",
    OrganisationKind.POWIAT: "powiat",
    OrganisationKind.WOJEWODZTWO: "województwo",
}


def render_context(
    document: Document, version: DocumentVersion, values: Mapping[str, object]
) -> dict[str, object]:
    signatory_by_org = {s.organisation_id: s for s in document.signatories}
    parties = []
    for party in document.parties:
        org = party.organisation
        signatory = signatory_by_org.get(org.id)
        rep = party.representative or (signatory.user if signatory else None)
        if signatory is not None and rep is signatory.user:
            rep_function = signatory.function
        else:
            rep_function = (rep.function_title if rep else None) or org.head_title or ""
        parties.append(
            Party(
                name=org.name,
                short_name=org.short_name,
                kind_label=KIND_LABELS_PL[org.kind],
                head_title=org.head_title or "",
                representative_name=rep.full_name if rep else "",
                representative_function=rep_function,
                seat=org.seat or "",
                teryt=org.teryt or "",
            )
        )
    info = DocumentInfo(
        reference=document.reference or "",
        title=document.title,
        kind=document.kind.value,
        place=document.owner_organisation.seat or "",
        date=to_warsaw(version.created_at).date(),
        version=version.number,
    )
    signatories = [
        Signatory(
            position=s.position,
            full_name=s.user.full_name,
            function=s.function,
            organisation_name=s.organisation.name,
        )
        for s in document.signatories
    ]
    return build_context(values, document=info, parties=parties, signatories=signatories)
