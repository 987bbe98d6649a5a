"""Command palette entries: open any lesson or jump to any step."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider


class LessonCommands(Provider):
    """One entry per lesson and per step, matched fuzzily on id and title."""

    def _entries(self) -> list[tuple[str, str, str]]:
        """(shown text, help, target) for every lesson and step; target is an id for open_step."""
        catalog = self.app.catalog  # type: ignore[attr-defined]
        entries = []
        for lesson in catalog.lessons:
            entries.append((f"Lesson: {lesson.title}", lesson.summary or lesson.id, lesson.id))
            for step in lesson.steps:
                entries.append(
                    (
                        f"Step: {lesson.title} › {step.title}",
                        f"{step.full_id} ({step.kind})",
                        step.full_id,
                    )
                )
        return entries

    async def discover(self) -> Hits:
        for shown, help_text, target in self._entries():
            if shown.startswith("Lesson:"):
                yield DiscoveryHit(shown, partial(self.app.open_step, target), help=help_text)  # type: ignore[attr-defined]

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for shown, help_text, target in self._entries():
            score = max(matcher.match(shown), matcher.match(target))
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(shown),
                    partial(self.app.open_step, target),  # type: ignore[attr-defined]
                    help=help_text,
                )
