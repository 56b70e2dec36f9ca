import pytest

from ledger.domain.entries import PostingDraft, UnbalancedEntry, check_balanced, transfer
from ledger.money import MoneyError, validate_amount, validate_currency


@pytest.mark.parametrize("amount", [0, -1, 10**12 + 1, 1.0, 1.5, "100", True, None])
def test_money_refuses_what_is_not_minor_units(amount):
    with pytest.raises(MoneyError):
        validate_amount(amount)


def test_money_accepts_the_bounds_and_known_currencies():
    assert validate_amount(1) == 1
    assert validate_amount(10**12) == 10**12
    assert validate_currency("USD") == "USD"
    with pytest.raises(MoneyError):
        validate_currency("EUR")


def test_a_transfer_balances():
    check_balanced(transfer(source=1, destination=2, currency="KRW", amount=500))


@pytest.mark.parametrize(
    "postings",
    [
        (PostingDraft(1, "KRW", -500), PostingDraft(2, "KRW", 499)),
        (PostingDraft(1, "KRW", -500), PostingDraft(2, "USD", 500)),
        (PostingDraft(1, "KRW", 0), PostingDraft(2, "KRW", 0)),
        (PostingDraft(1, "KRW", -500),),
    ],
)
def test_unbalanced_drafts_are_refused(postings):
    with pytest.raises(UnbalancedEntry):
        check_balanced(postings)
