from django.db import models, transaction


class Sequence(models.Model):
    """The last number issued in a series and year (ORD 2026, INV 2026, CN 2026...)."""

    series = models.CharField(max_length=16)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["series", "year"], name="sequence_series_year_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.series}-{self.year}: {self.last}"


def allocate_number(series: str, year: int) -> int:
    """Next number in the series, gapless: the row lock is held until the caller commits,
    and a rollback gives the number back."""
    assert transaction.get_connection().in_atomic_block, "allocate inside the caller's transaction"
    Sequence.objects.bulk_create(
        [Sequence(series=series, year=year, last=0)], ignore_conflicts=True
    )
    sequence = Sequence.objects.select_for_update().get(series=series, year=year)
    sequence.last += 1
    sequence.save(update_fields=["last"])
    return sequence.last
