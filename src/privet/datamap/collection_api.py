"""`POST /collection/check`: do a form's fields fit a purpose (P2, P43)? For company services and their forms."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from privet.auth.deps import require
from privet.datamap import collection

router = APIRouter(prefix="/collection", tags=["collection"])
Key = Annotated[str, Field(min_length=1, max_length=160)]


class FieldIn(BaseModel):
    """A field of the form: the data category it collects, and its name on the form (echoed back)."""

    model_config = ConfigDict(extra="forbid")
    category: Key
    name: Annotated[str, Field(min_length=1, max_length=120)] | None = None


class CheckIn(BaseModel):
    """The purpose a form collects for, and its fields (category keys, or objects with a name)."""

    model_config = ConfigDict(extra="forbid")
    purpose: Key
    fields: Annotated[list[Key | FieldIn], Field(min_length=1, max_length=200)]
    activity: Key | None = Field(
        None,
        description="One processing activity of the purpose (default: all of them "
        "except those only for children and guardians).",
    )
    subject_type: Key | None = Field(
        None, description="Who fills the form in (customer, child, guardian, ...): the activities for them."
    )
    lang: Literal["en", "zh_CN"] = Field("en", description="The language of the category names returned.")


class FieldOut(BaseModel):
    name: str | None
    category: str
    status: Literal["required", "optional", "not_needed"]
    declared: str | None = Field(description="The category of the data map this field matched.")
    sensitive: str | None = Field(description="The PIPL sensitive kind: collecting it needs separate consent.")


class CheckOut(BaseModel):
    purpose: str
    declared_purpose: str = Field(description="The purpose, or the declared purpose it is a narrower use of.")
    fits: bool = Field(description="No required category missing and no field the purpose does not need.")
    activities: list[str]
    required: list[str]
    optional: list[str]
    missing: list[str] = Field(description="Required categories no field collects.")
    optional_present: list[str] = Field(description="Fields the person may leave empty: show them as optional.")
    not_needed: list[str] = Field(description="Fields the purpose does not use: do not collect them for it (P2).")
    fields: list[FieldOut]
    names: dict[str, str] = Field(description="Every category named above, with its name in `lang`.")


@router.post(
    "/check",
    dependencies=[Depends(require("decide"))],
    response_model=CheckOut,
    summary="Check a form's fields against a purpose: required and missing, optional, not needed.",
)
def check(body: CheckIn, request: Request) -> dict:
    fields = [collection.Field(f) if isinstance(f, str) else collection.Field(f.category, f.name) for f in body.fields]
    with request.app.state.sessionmaker() as session:  # reads only: no write transaction (SQLite's lock)
        return collection.check(
            session, body.purpose, fields, activity=body.activity, subject_type=body.subject_type, lang=body.lang
        ).as_dict()
