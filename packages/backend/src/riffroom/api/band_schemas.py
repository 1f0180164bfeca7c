"""Public shapes of setlists and bands (published in /openapi.json)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from riffroom.api.schemas import BandRef

EntityId = Annotated[str, Field(pattern=r"^[0-9a-f]{32}$", description="a song's or setlist's id")]
SETLIST_MAX_SONGS = 200


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SetlistEntryIn(_Strict):
    song_id: EntityId
    notes: str = Field(
        default="", max_length=2000, description="the set's notes for this song (printed on the set sheet)"
    )


class SetlistCreate(_Strict):
    name: str = Field(min_length=1, max_length=200)
    songs: list[SetlistEntryIn] = Field(default_factory=list, max_length=SETLIST_MAX_SONGS)


class SetlistPatch(_Strict):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    songs: list[SetlistEntryIn] | None = Field(
        default=None, max_length=SETLIST_MAX_SONGS, description="replaces the list"
    )


class SetlistOrder(_Strict):
    song_ids: list[EntityId] = Field(max_length=SETLIST_MAX_SONGS, description="the setlist's songs, in the new order")


class SetlistEntryOut(BaseModel):
    song_id: str
    position: int = Field(description="from 0")
    notes: str
    name: str
    artist: str | None
    duration: float


class SetlistOut(BaseModel):
    id: str
    name: str
    owned: bool = Field(description="false for a setlist shared with a band you are in")
    bands: list[BandRef]
    songs: list[SetlistEntryOut] = Field(description="in set order; songs you cannot see are left out")
    duration: float
    created_at: float
    updated_at: float


class SetlistSummary(BaseModel):
    id: str
    name: str
    owned: bool
    bands: list[BandRef]
    song_count: int
    duration: float
    updated_at: float


class SetlistList(BaseModel):
    setlists: list[SetlistSummary]


class SetSheetSong(BaseModel):
    position: int = Field(description="from 1, as printed")
    song_id: str
    title: str
    artist: str | None
    key: str | None = Field(description="from the song's analysis; null until it has one")
    tempo_bpm: float | None = Field(description="from the song's analysis; null until it has one")
    duration: float
    notes: str


class SetSheetOut(BaseModel):
    title: str
    songs: list[SetSheetSong]
    total_duration: float


class BandCreate(_Strict):
    name: str = Field(min_length=1, max_length=100)


class BandMemberIn(_Strict):
    username: str = Field(min_length=1, max_length=64)


class BandSongIn(_Strict):
    song_id: EntityId


class BandSetlistIn(_Strict):
    setlist_id: EntityId


class BandMemberOut(BaseModel):
    username: str
    role: Literal["owner", "member"]
    added_at: float


class BandOut(BaseModel):
    id: str
    name: str
    owner: str = Field(description="the owner's user name")
    role: Literal["owner", "member"] = Field(description="your role in the band")
    members: list[BandMemberOut]
    songs: list[str] = Field(description="ids of the songs shared with the band")
    setlists: list[str] = Field(description="ids of the setlists shared with the band")
    created_at: float


class BandList(BaseModel):
    bands: list[BandOut]
