"""Consumers: purchases, illness, complaints, word of mouth and trust.

Each business's share of purchases follows its sales and its demand (which disclosure of its
violations lowers); consumers who trust food safety less eat out less. A consumer falls ill
from unsafe food, may complain to the authority (more so with rewards, awareness and trust in
the regulator), and tells neighbours, which spreads awareness and lowers their trust.
Counts are turned into real people with ``people_per_consumer``, and complaints are spread
over businesses in real units, so figures do not depend on ``consumers.count``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from scipy.special import expit

from govsim.jit import compiled

if TYPE_CHECKING:
    from govsim.model import GovernanceModel
    from govsim.state import ConsumerState

DEMAND_RECOVERY = 0.1       # monthly recovery of lost demand (reputation, publication)
ILL_TRUST_LOSS = 0.25        # fraction of trust lost by falling ill
HEARSAY_TRUST_LOSS = 0.10    # fraction lost when all one's neighbours fell ill
AWARE_COMPLAINT_ODDS = 2.0   # odds multiplier for consumers who know how to complain
TRUST_COMPLAINT_SLOPE = 2.0  # log-odds per unit of trust above its initial level


def market_shares(model: GovernanceModel) -> np.ndarray:
    """Each business's share of purchases this month."""
    b = model.businesses
    sales = b.sales_yuan()
    return sales / sales.sum()


def complaint_probability(model: GovernanceModel, ill: np.ndarray) -> np.ndarray:
    """Chance each of the ill consumers complains: survey baseline, moved by reward,
    awareness, trust."""
    p = model.params.participation
    c = model.consumers
    base = min(max(p.complaint_probability, 1e-9), 1 - 1e-9)
    baseline = math.log(base / (1 - base)) + p.reward_effect * math.log1p(p.reward_yuan / 1000.0)
    # float32, as numpy works the trust term out with trust's precision
    return expit(_complaint_logit(ill, c.trust, c.aware, np.float32(baseline),
                                  np.float32(TRUST_COMPLAINT_SLOPE),
                                  np.float32(model.params.consumers.initial_trust),
                                  math.log(AWARE_COMPLAINT_ODDS)))


@compiled
def _complaint_logit(ill, trust, aware, baseline, slope, initial_trust, aware_log_odds):
    """Log-odds that each of ``ill`` complains: the trust term in float32 (``baseline``,
    ``slope`` and ``initial_trust`` are float32), the awareness term added in float64."""
    logit = np.empty(len(ill))
    for k in range(len(ill)):
        i = ill[k]
        from_trust = baseline + slope * (trust[i] - initial_trust)
        logit[k] = np.float64(from_trust) + (aware_log_odds if aware[i] else 0.0)
    return logit


def consume(model: GovernanceModel) -> None:
    """Purchases, illness, complaints and word of mouth for this month."""
    sc = model.params
    c = model.consumers
    b = model.businesses
    shares = market_shares(model)
    source = shares * b.unsafe  # purchases of unsafe food, by business
    unsafe_share = float(source.sum())  # chance a purchase is unsafe food
    model.tally["unsafe_purchase_share"] = unsafe_share
    from_business = _fall_ill(model, unsafe_share * sc.consumers.illness_probability)
    ill = _mark_ill(c.ill, from_business, _fall_ill_elsewhere(model))
    p_complain = complaint_probability(model, ill)
    complainants, traceable = _complain(c.complained, ill, model.rng.random(len(ill)),
                                        p_complain, len(from_business))
    c.complainants = complainants
    scale = model.people_per_consumer
    model.tally["illness_cases"] = len(ill) * scale
    model.tally["illness_from_businesses"] = len(from_business) * scale
    model.tally["complaints"] = len(complainants) * scale
    n_traceable = int(round(traceable * scale))
    n_other = int(round((len(complainants) - traceable) * scale))  # the rest of them
    sellers, sources = Places(shares), Places(source)
    _attribute_complaints(model, n_traceable, n_other, sellers, sources)
    _lose_reputation(model, int(round(len(from_business) * scale)), shares, sources)
    _word_of_mouth(model, ill)
    model.aware_share = float(np.count_nonzero(c.aware)) / c.count


def _fall_ill(model: GovernanceModel, risk_per_meal: float) -> np.ndarray:
    """Indices of consumers who fall ill this month.

    Less trust, fewer meals out: from half the meals at trust 0 to all of them at the initial
    trust. Illness is rare, so draw candidates at the highest risk and thin them, which costs
    O(ill) instead of O(consumers) random numbers at city scale.
    """
    sc = model.params
    c = model.consumers
    max_meals = sc.consumers.meals_out_per_month
    log_safe = math.log1p(-min(risk_per_meal, 1.0 - 1e-12))  # log P(a meal is harmless)
    p_max = -math.expm1(max_meals * log_safe)
    if p_max <= 0.0:
        return np.zeros(0, dtype=np.int64)
    candidates = model.rng.choice(c.count, model.rng.binomial(c.count, p_max), replace=False)
    trust0 = max(sc.consumers.initial_trust, 1e-9)
    log_safe_meals = _log_safe_meals(candidates, c.trust, np.float32(0.5 / trust0),
                                     np.float32(max_meals), np.float32(log_safe))
    # u x p_max < p(ill), p(ill) = -expm1(...), as -u x p_max > expm1(...): negating is
    # exact, so the same test, one numpy step fewer
    return candidates[model.rng.random(len(candidates)) * -p_max > np.expm1(log_safe_meals)]


@compiled
def _log_safe_meals(candidates, trust, per_trust, max_meals, log_safe):
    """Sorts ``candidates`` (in place) and returns, for each, the log of the chance that all
    its meals out are harmless: ``max_meals`` times ``min(0.5 + per_trust x trust, 1)``
    meals, each harmless with log-chance ``log_safe``. In float32, trust's precision, as
    numpy did it (the scalars are float32)."""
    candidates.sort()
    half, one = np.float32(0.5), np.float32(1.0)
    log_safe_meals = np.empty(len(candidates), dtype=np.float32)
    for k in range(len(candidates)):
        share = half + per_trust * trust[candidates[k]]
        if share > one:
            share = one
        log_safe_meals[k] = max_meals * share * log_safe
    return log_safe_meals


def _fall_ill_elsewhere(model: GovernanceModel) -> np.ndarray:
    """Consumers who fall ill from food not traceable to a business's unsafe batch: home
    cooking, sporadic cases. Drawn sparsely, O(ill); some may be ill already."""
    c = model.consumers
    p = -math.expm1(math.log1p(-model.params.consumers.other_illness_per_year) / 12.0)
    return model.rng.choice(c.count, model.rng.binomial(c.count, p), replace=False)


@compiled
def _mark_ill(ill, from_business, elsewhere):
    """Marks this month's ill in ``ill`` (by consumer) and returns them: those made ill by a
    business, then those made ill elsewhere who were not already (sorted)."""
    ill[:] = False
    for i in from_business:
        ill[i] = True
    n = len(from_business)
    everyone = np.empty(n + len(elsewhere), dtype=np.int64)
    everyone[:n] = from_business
    m = n
    for i in elsewhere:
        if not ill[i]:
            everyone[m] = i
            m += 1
    everyone[n:m].sort()
    for i in everyone[n:m]:
        ill[i] = True
    return everyone[:m]


@compiled
def _complain(complained, ill, u, p_complain, n_from_business):
    """Who of ``ill`` complains (their draw ``u`` below their chance), marked in
    ``complained`` (by consumer): (complainants, how many of them a business made ill,
    the first ``n_from_business`` of ``ill``)."""
    complained[:] = False
    complainants = np.empty(len(ill), dtype=np.int64)
    n = 0
    traceable = 0
    for k in range(len(ill)):
        if u[k] < p_complain[k]:
            complainants[n] = ill[k]
            complained[ill[k]] = True
            n += 1
            if k < n_from_business:
                traceable += 1
    return complainants[:n], traceable


class Places:
    """Businesses people may go to: those with a positive weight, gathered once for the
    month's several draws from the same weights."""

    def __init__(self, weight: np.ndarray):
        if weight.all():  # all non-zero (a float's truth), without a bool array first
            self.index, self.weight = None, weight  # all of them: nothing to gather
        else:
            # on a bool array: np.flatnonzero is 5x slower
            self.index = (weight != 0).nonzero()[0]
            self.weight = weight[self.index]

    def businesses(self, positions: np.ndarray) -> np.ndarray:
        return positions if self.index is None else self.index[positions]


def _draw_businesses(model: GovernanceModel, n: int,
                     places: Places) -> tuple[np.ndarray, np.ndarray]:
    """Where ``n`` people go, drawn with probabilities ``places.weight``: (businesses, people).

    A multinomial over the places (few, when only unsafe ones can be a source); by
    inverse-CDF look-up when there are more places than people to place. Returned sparse
    (by business), as most businesses get nobody.
    """
    k = len(places.weight)
    if n == 0 or k == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    if k <= n:
        counts = model.rng.multinomial(n, places.weight / places.weight.sum())
        hit = (counts != 0).nonzero()[0]
        return places.businesses(hit), counts[hit]
    positions, people = _look_up(places.weight, model.rng.random(n))
    return places.businesses(positions), people


@compiled
def _look_up(weight, u):
    """Places of the people with uniform draws ``u`` (sorted here, in place), by inverse CDF
    over ``weight``: (places, people), sparse and in order of place.

    A person goes to the first place whose cumulative weight (summed in order) exceeds their
    draw times the total, as ``searchsorted(side="right")``; a draw that rounds up to the
    total goes to the last place. Sorted draws walk the places once.
    """
    k = len(weight)
    cumulative = np.empty(k)
    total = 0.0
    for j in range(k):
        total += weight[j]
        cumulative[j] = total
    u.sort()
    places = np.empty(len(u), dtype=np.int64)
    people = np.zeros(len(u), dtype=np.int64)
    n_places = 0
    j = 0
    for x in u:
        x *= total
        while j < k and cumulative[j] <= x:
            j += 1
        place = min(j, k - 1)
        if n_places == 0 or places[n_places - 1] != place:
            places[n_places] = place
            n_places += 1
        people[n_places - 1] += 1
    return places[:n_places], people[:n_places]


def _attribute_complaints(model: GovernanceModel, n_traceable: int, n_other: int,
                          sellers: Places, sources: Places) -> None:
    """Spread real complaints over businesses: people made ill by a business name it with
    ``attribution_probability``, otherwise a place they ate; people made ill elsewhere name
    a place they ate. Complaints join the queue the regulator has not yet followed up."""
    b = model.businesses
    attribution = model.params.participation.attribution_probability
    n_right = model.rng.binomial(n_traceable, attribution) if len(sources.weight) else 0
    n_people = n_traceable + n_other
    right = _draw_businesses(model, n_right, sources)
    guessed = _draw_businesses(model, n_people - n_right, sellers)
    b.complaints_true, b.complaints = _file(b.count, *right, *guessed, b.complaint_queue)


@compiled
def _file(n_businesses, right, right_people, guessed, guessed_people, queue):
    """Complaints by business: (naming the true source, all of them), from the people who
    named each business rightly and those who guessed; all of them join ``queue``."""
    complaints_true = np.zeros(n_businesses)
    for k in range(len(right)):
        complaints_true[right[k]] = right_people[k]
    complaints = complaints_true.copy()
    for k in range(len(guessed)):
        complaints[guessed[k]] += guessed_people[k]
    for i in range(n_businesses):
        queue[i] += complaints[i]
    return complaints_true, complaints


def _lose_reputation(model: GovernanceModel, ill_people: int, shares: np.ndarray,
                     sources: Places) -> None:
    """Customers made ill who know where they ate stay away and tell others: the business
    loses that share of its customers (demand recovers in the adaptation phase).

    Who knows the source is kept (``model.ill_who_know``) for damages claims, and the margin
    lost is kept (``model.reputation_loss_yuan``) for businesses to learn from.
    """
    sc = model.params
    b = model.businesses
    known = model.rng.binomial(ill_people, sc.participation.attribution_probability)
    where, people = _draw_businesses(model, known, sources)
    model.ill_who_know = (where, people)
    model.reputation_loss_yuan = _stay_away(
        where, people, shares, sc.consumers.population, sc.consumers.reputation_effect,
        b.revenue_yuan, b.demand, sc.businesses.margin)


@compiled
def _stay_away(where, people, shares, population, effect, revenue, demand, margin):
    """Businesses ``where`` lose ``effect`` customers per ill person who knows (at most all
    of them): their demand falls by that share, and the margin given up (on the sales
    before the fall) is returned by business."""
    loss_yuan = np.zeros(len(shares))
    for k in range(len(where)):
        w = where[k]
        customers = population * shares[w]
        if customers < 1.0:
            customers = 1.0
        lost = effect * people[k] / customers
        if lost > 1.0:
            lost = 1.0
        loss_yuan[w] = lost_margin(lost, revenue[w] * demand[w], margin)
        demand[w] *= 1.0 - lost
    return loss_yuan


def lost_margin_yuan(model: GovernanceModel, where: np.ndarray, lost: np.ndarray) -> np.ndarray:
    """Margin businesses ``where`` give up when they lose ``lost`` of their demand."""
    return lost_margin(lost, model.businesses.sales_yuan(where), model.params.businesses.margin)


@compiled
def lost_margin(lost, sales, margin):
    """Margin given up by a business with ``sales`` that loses ``lost`` of its demand: the
    lost sales until demand recovers (it recovers a share ``DEMAND_RECOVERY`` a month).
    Numbers or arrays; compiled, so that compiled loops use the same formula."""
    return lost * sales * margin / DEMAND_RECOVERY


def _word_of_mouth(model: GovernanceModel, ill: np.ndarray) -> None:
    """Each ill consumer tells each neighbour with chance ``word_of_mouth``: the told become
    aware, and every ill neighbour costs a consumer a share of trust (hearsay).

    Works tie by tie on the neighbour lists of the ill only (rows of the CSR matrix), not
    on the whole network, so its cost follows the number of ill consumers.
    """
    c = model.consumers
    wom = model.params.participation.word_of_mouth
    indptr, indices = c.neighbours.indptr, c.neighbours.indices
    told = model.rng.random(_ties_of(indptr, ill)) < wom  # one draw per (ill, neighbour) tie
    _spread(indptr, indices, ill, told, _hearsay_keep(c, wom), c.aware, c.trust,
            np.float32(1.0 - ILL_TRUST_LOSS))


@compiled
def _ties_of(indptr, ill):
    """Number of (ill, neighbour) ties."""
    n = 0
    for i in ill:
        n += indptr[i + 1] - indptr[i]
    return n


@compiled
def _spread(indptr, indices, ill, told, keep, aware, trust, ill_keep):
    """Tie by tie, in the order of the ill and of their neighbour lists: a told neighbour
    becomes aware, and each ill neighbour multiplies a consumer's trust by its ``keep``
    (float32, as ``np.multiply.at`` did); then the ill are aware and lose their own share."""
    tie = 0
    for i in ill:
        for k in range(indptr[i], indptr[i + 1]):
            heard = indices[k]
            if told[tie]:
                aware[heard] = True
            trust[heard] *= keep[heard]
            tie += 1
    for i in ill:
        aware[i] = True
        trust[i] *= ill_keep


def _hearsay_keep(c: ConsumerState, wom: float) -> np.ndarray:
    """Share of its trust a consumer keeps per ill neighbour (float32, by consumer).

    Fixed while ``word_of_mouth`` is (the network is fixed), so worked out once for all
    consumers and kept with them, then gathered for the ties of the ill: the same values as
    three numpy steps a month on the ties (each element is computed alone, so where it is
    computed does not matter).
    """
    if c.hearsay is None or c.hearsay[0] != wom:
        c.hearsay = wom, (1.0 - HEARSAY_TRUST_LOSS * wom / c.degree).astype(np.float32)
    return c.hearsay[1]
