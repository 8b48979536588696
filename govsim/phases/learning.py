"""Adaptation: businesses, agencies and consumers learn from what they saw this month.

Businesses weigh the monthly cost of complying against the loss they expect from cutting
corners, learned through the channels a real business has (each a rule in the ODD):

- the chance of being sampled: from the published sampling plan and its own risk grade;
- the chance that a sample of unsafe food ends as a failure: from what it sees happen to
  peers in its sector (so shirked tests and bought passes lower deterrence);
- the chance that a confirmed violation is fined: from peers' fates;
- what a failure costs: the recall (the batch's value), the fine by the law's tiers (known
  from the law), and the customers lost when the bulletin publishes it (known reach);
- the chance of being caught by an inspection: from peers caught cutting corners, and its
  own experience;
- damages and reputation: from the claims and lost customers it sees cutting peers suffer
  beyond complying ones, per yuan of sales.

A share of them reconsider each month and choose by a logit rule that also pulls them
towards what their sector does (conformity).

Agencies weigh the gain from a false report (the test cost saved, or the bribe) against the
expected penalty, with a belief of the back-check risk learned from their own discoveries
(routine back-checks and those set off by traced illness clusters), and move their cheating
propensities part of the way to that target, scaled by dishonesty.

Consumers' trust returns slowly to its initial level; complainants' trust follows whether
the regulator acted; visible enforcement (disclosure) restores trust.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy.special import expit

from govsim.jit import compiled
from govsim.phases.consumers import DEMAND_RECOVERY, lost_margin
from govsim.phases.enforcement import art124_fine, batch_value, publication_reach
from govsim.phases.grading import sampling_chance
from govsim.phases.procurement import bid_inputs, bid_price
from govsim.state import SectorBeliefs

if TYPE_CHECKING:
    from govsim.model import GovernanceModel

OWN_EXPERIENCE_WEIGHT = 0.5   # own inspections vs peers' in a corner-cutter's belief update
CLIENT_VALUE_BATCHES = 3.0    # self-paid regime: future batches a passed client brings
BELIEF_MEMORY = 0.9           # agencies' monthly discount of past back-check experience
PRIOR_REPORTS = 5.0           # weight of the announced back-check rate, in false reports
VISIBLE_ENFORCEMENT = 0.005   # share of businesses fined a month that makes it fully visible
AGENCY_NOISE = 0.25           # agencies' decision noise, as a fraction of the price
COMPLAINT_RESPONSE = 0.2      # share of the way complainants' trust moves to the share acted on


def adapt(model: GovernanceModel) -> None:
    """All three populations update."""
    sales, compliers, group_sums = _take_stock(model)
    _learn_from_peers(model, group_sums)
    _revise_business_strategies(model, compliers, sales)
    _adapt_agencies(model)
    _update_trust(model)


def initial_beliefs(model: GovernanceModel) -> SectorBeliefs:
    """The trade's common estimates at the start.

    Detection: the local agencies' mean sensitivity, less what their initial shirking and
    bribe-taking would let pass. Fines: the law's enforcement probability. Damages and
    reputation: what the law and the market imply at the start (these are then learned from
    what happens, not foreseen).
    """
    sc = model.params
    ag = model.agencies
    local = ~ag.outside
    honest = (1 - ag.shirk[local]) * (1 - sc.businesses.bribe_propensity * ag.collude[local])
    detect = float(np.mean(ag.sensitivity[local] * honest))
    b = model.businesses
    extra_ill = np.bincount(b.sector, weights=_extra_ill_per_customer(model), minlength=3)
    extra_ill /= np.maximum(b.sector_counts, 1)
    known = extra_ill * sc.participation.attribution_probability
    return SectorBeliefs(
        fail_given_unsafe=np.full(3, detect),
        fine_given_confirmed=np.full(3, sc.law.enforcement_probability),
        damages_per_sales=known * sc.law.damages_claim_probability * sc.law.consumer_damages_yuan
        * sc.consumers.population / b.sales_yuan().sum(),  # customers per yuan of sales
        reputation_per_sales=known * sc.consumers.reputation_effect * sc.businesses.margin
        / DEMAND_RECOVERY,
    )


def _extra_ill_per_customer(model: GovernanceModel) -> np.ndarray:
    """Extra share of a business's customers made ill a month when it cuts corners."""
    b = model.businesses
    c = model.params.consumers
    return (b.hazard_cut - b.hazard_comply) * c.meals_out_per_month * c.illness_probability


def _take_stock(model: GovernanceModel) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What businesses saw this month, their beliefs of inspections updated with it, and
    the demand they lost recovering by ``DEMAND_RECOVERY``.

    Returns:
        Each business's sales this month; the complying businesses of each sector; and the
        sales, damages paid and customers' margin lost (rows) summed by sector and strategy
        (columns: sector x 2 + 1 if cutting corners).
    """
    b = model.businesses
    lr = model.params.businesses.belief_learning_rate
    return _stock_and_beliefs(
        b.sector, b.complying, b.revenue_yuan, b.demand, model.damages_paid_yuan,
        model.reputation_loss_yuan, b.sector_counts,
        model.seen.by_sector("cutters_inspected_caught"), b.caught_by_inspection, b.belief,
        lr, lr * OWN_EXPERIENCE_WEIGHT, DEMAND_RECOVERY)


@compiled
def _stock_and_beliefs(sector, complying, revenue, demand, damages, reputation, sector_counts,
                       caught, caught_self, belief, lr, own, recovery):
    """:func:`_take_stock` in two passes over the businesses.

    The first takes this month's sales, counts and sums by sector and strategy (in business
    order, as ``np.bincount`` adds), and lets lost demand recover once the month's sales are
    known. The second moves each business's belief of being caught by an inspection towards
    the share of its sector's corner-cutters an inspection caught this month; a corner-cutter
    also weighs its own experience (``own``: caught or not).
    """
    n = len(sector)
    sales = np.empty(n)
    compliers = np.zeros(3, dtype=np.int64)
    sums = np.zeros((3, 6))
    for i in range(n):
        s = sector[i]
        group = 2 * s + (0 if complying[i] else 1)
        sales[i] = revenue[i] * demand[i]
        compliers[s] += complying[i]
        sums[0, group] += sales[i]
        if damages[i] != 0:  # np.bincount over the non-zero ones: a 0.0 could turn -0.0 to 0.0
            sums[1, group] += damages[i]
        if reputation[i] != 0:
            sums[2, group] += reputation[i]
        demand[i] += recovery * (1.0 - demand[i])
    peer = np.zeros(3)
    for s in range(3):
        cutters = sector_counts[s] - compliers[s]
        if cutters > 0:
            peer[s] = caught[s] / cutters
    for i in range(n):
        s = sector[i]
        x = belief[i] + (peer[s] - belief[i]) * lr
        x -= 0.0 if complying[i] else own * peer[s]
        if caught_self[i]:
            x += own
        belief[i] = _clip(x, 0.0, 1.0)
    return sales, compliers, sums


@compiled
def _clip(x, low, high):
    """``np.clip`` of one float, nan and signed zeros included."""
    if not (x > low or x != x):
        x = low
    if not (x < high or x != x):
        x = high
    return x


def _learn_from_peers(model: GovernanceModel, group_sums: np.ndarray) -> None:
    """Move each sector's beliefs towards what its members saw this month (``group_sums``:
    sales, damages paid and customers' margin lost by sector x 2 + 1 if cutting corners)."""
    lr = model.params.businesses.belief_learning_rate
    seen = model.seen
    beliefs = model.beliefs
    _towards(beliefs.fail_given_unsafe, seen.by_sector("unsafe_failed"),
             seen.by_sector("unsafe_sampled"), lr)
    _towards(beliefs.fine_given_confirmed, seen.by_sector("fined"),
             seen.by_sector("confirmed"), lr)
    # six sums and three beliefs a sector: plain floats cost less than numpy calls on them
    sales, damages, reputation = group_sums.tolist()
    for values, paid in ((beliefs.damages_per_sales, damages),
                         (beliefs.reputation_per_sales, reputation)):
        rate = [p / s if s > 0 else 0.0 for p, s in zip(paid, sales, strict=True)]
        # cutting peers' loss beyond complying peers' (rate is complying, cutting by sector)
        extra = [cut - comply for comply, cut in zip(rate[0::2], rate[1::2], strict=True)]
        values[:] = [v + lr * (max(e, 0.0) - v)
                     for v, e in zip(values.tolist(), extra, strict=True)]


def _towards(belief: np.ndarray, hits: np.ndarray, trials: np.ndarray, lr: float) -> None:
    """Move a sector's rate belief towards hits / trials where there were trials."""
    belief[:] = [v + lr * (h / n - v) if n > 0 else v  # three plain floats: no numpy calls
                 for v, h, n in zip(belief.tolist(), hits.tolist(), trials.tolist(),
                                    strict=True)]


def expected_loss_if_cutting(model: GovernanceModel, who: np.ndarray) -> np.ndarray:
    """Expected extra monthly loss from cutting corners (yuan) of businesses ``who``."""
    return _expected_loss(who, model.businesses.sales_yuan(), *_loss_inputs(model))


def _loss_inputs(model: GovernanceModel) -> tuple:
    """What a business weighs in :func:`_expected_loss`, in its order of arguments."""
    b = model.businesses
    sc = model.params
    law = sc.law
    beliefs = model.beliefs
    return (b.sector, sampling_chance(model, model.planned_batches), b.followups_due,
            b.hazard_cut, b.hazard_comply, b.belief, beliefs.fine_given_confirmed,
            beliefs.fail_given_unsafe, beliefs.damages_per_sales, beliefs.reputation_per_sales,
            sc.businesses.margin, sc.businesses.batch_share_of_sales,
            law.business_fine_yuan, law.fine_goods_multiple, law.inspection_fine_yuan,
            publication_reach(model, "sampling"), publication_reach(model, "routine"),
            sc.participation.disclosure_demand_loss)


@compiled
def _expected_loss(who, sales, sector, sampling_chance, followups_due, hazard_cut,
                   hazard_comply, belief, fine_given_confirmed, fail_given_unsafe,
                   damages_per_sales, reputation_per_sales, margin, batch_share,
                   min_fine, fine_multiple, inspection_fine, bulletin_reach, routine_reach,
                   demand_loss):
    """Expected extra monthly loss from cutting corners (yuan) of businesses ``who``, given
    everyone's ``sales`` and the inputs :func:`_loss_inputs` gathers (each business's
    ``sampling_chance`` under the published plan: ``grading.sampling_chance``)."""
    loss = np.empty(len(who))
    for k in range(len(who)):
        i = who[k]
        s = sector[i]
        fine_chance = fine_given_confirmed[s]
        margin_lost = lost_margin(1.0, sales[i], margin)  # all its customers, for a while
        # sampling: the plan and its grade say how often it is sampled (a follow-up sample is
        # announced and certain); peers say how often an unsafe sample fails; a failure costs
        # the recall (the batch's value), the art. 124 fine and the bulletin's customers
        sampled = 1.0 if followups_due[i] > 0 else sampling_chance[i]
        goods = batch_value(sales[i], batch_share)
        fine = art124_fine(goods, min_fine, fine_multiple)
        per_failure = goods + fine_chance * fine + bulletin_reach * demand_loss * margin_lost
        sampling = (sampled * (hazard_cut[i] - hazard_comply[i]) * fail_given_unsafe[s]
                    * per_failure)
        # inspections: its belief of being caught; a process fine, published under disclosure
        per_catch = fine_chance * inspection_fine
        if routine_reach != 0.0:
            per_catch = per_catch + routine_reach * demand_loss * margin_lost
        inspection = belief[i] * per_catch
        # damages and reputation: what cutting peers suffered beyond complying ones
        market = (damages_per_sales[s] + reputation_per_sales[s]) * sales[i]
        loss[k] = sampling + inspection + market
    return loss


@compiled
def _reconsidering(draws, revision_rate, notified, punished, caught):
    """Businesses that reconsider: a share ``revision_rate`` (``draws``: one uniform number
    each), and those with news of their own failed sample, fine or inspection finding."""
    return ((draws < revision_rate) | notified | punished | caught).nonzero()[0]


@compiled
def _revision(draws, revision_rate, notified, punished, caught, compliers, sector_counts,
              conformity, choice_noise, cost, sales, *loss_inputs):
    """The businesses that reconsider, and the log-odds that each cuts corners: the gain from
    cutting (the cost of complying saved less the loss it expects), less the pull towards
    its sector's norm (``compliers``: complying businesses of each sector)."""
    revising = _reconsidering(draws, revision_rate, notified, punished, caught)
    loss = _expected_loss(revising, sales, *loss_inputs)
    norm = np.empty(3)
    for s in range(3):
        norm[s] = conformity * (2 * (compliers[s] / max(sector_counts[s], 1)) - 1)
    sector = loss_inputs[0]
    logit = np.empty(len(revising))
    for k in range(len(revising)):
        i = revising[k]
        logit[k] = (cost[i] - loss[k]) / choice_noise - norm[sector[i]]
    return revising, logit


def _revise_business_strategies(model: GovernanceModel, compliers: np.ndarray,
                                sales: np.ndarray) -> None:
    """A share of businesses reconsider and choose by a logit rule (``compliers``: complying
    businesses of each sector; ``sales``: each business's sales this month)."""
    b = model.businesses
    bs = model.params.businesses
    rng = model.rng
    # a share reconsider each month; news of one's own failed sample, fine or inspection
    # finding makes a business reconsider at once (specific deterrence)
    revising, logit = _revision(rng.random(b.count), bs.revision_rate, b.notified, b.punished,
                                b.caught_by_inspection, compliers, b.sector_counts,
                                bs.conformity, bs.choice_noise_yuan, b.cost_yuan, sales,
                                *_loss_inputs(model))
    if len(revising):  # nobody reconsidering draws nothing
        b.complying[revising] = rng.random(len(revising)) >= expit(logit)


def _adapt_agencies(model: GovernanceModel) -> None:
    """Agencies update their belief of the back-check risk and move their cheating
    propensities part of the way to what it makes worthwhile."""
    ag = model.agencies
    sc = model.params
    perf = sc.performance
    announced = perf.backcheck_rate * perf.backcheck_sensitivity  # back-check risk
    logits = _cheating_logits(
        ag.false_seen, ag.found_seen, ag.belief_backcheck, model.last_false_reports,
        model.last_false_found, PRIOR_REPORTS * announced,
        ag.price_yuan, *bid_inputs(model), sc.law.agency_fine_multiple,
        perf.blacklist, ag.quota, ag.tested, perf.blacklist_months, perf.blacklist_threshold,
        sc.market.bribe_yuan, sc.procurement.payer == "business", sc.law.agency_liability,
        sc.law.business_fine_yuan)
    _move_propensities(ag.shirk, ag.collude, ag.integrity, expit(logits),
                       sc.market.learning_rate)


@compiled
def _cheating_logits(false_seen, found_seen, belief_backcheck, false_reports, false_found,
                     prior_found, contract_price, cost, markup, outside, sqrt_rivals, ceiling,
                     outside_ceiling, fine_multiple, blacklist, quota, tested, blacklist_months,
                     blacklist_threshold, bribe, client_pays, liability, business_fine):
    """Each agency's belief of the back-check risk, updated in place, and the log-odds of
    shirking (row 0) and colluding (row 1) that the gain and the expected penalty give.

    Discounted counts of its own false reports and of those found are shrunk towards the
    announced back-check risk (``prior_found`` found of ``PRIOR_REPORTS``): a ratio of a
    month's one or two false reports would swing wildly. An agency without a contract weighs
    the price it would bid (:func:`procurement.bid_price`).
    """
    n = len(cost)
    logits = np.empty((2, n))
    for a in range(n):
        false_seen[a] = BELIEF_MEMORY * false_seen[a] + false_reports[a]
        found_seen[a] = BELIEF_MEMORY * found_seen[a] + false_found[a]
        risk = (found_seen[a] + prior_found) / (false_seen[a] + PRIOR_REPORTS)
        belief_backcheck[a] = risk
        price = contract_price[a]
        if not price > 0:
            price = bid_price(cost[a], markup[a], outside[a], sqrt_rivals, ceiling,
                              outside_ceiling)
        penalty = (fine_multiple + 1.0) * price
        if blacklist:  # the profit a blacklisting costs, per false report found
            profit = max(quota[a], tested[a]) * np.maximum(price - cost[a], 0.0)
            penalty = penalty + profit * blacklist_months / blacklist_threshold
        gain = bribe + CLIENT_VALUE_BATCHES * price if client_pays else bribe
        noise = AGENCY_NOISE * price
        expected_penalty = risk * penalty
        liable = risk * (penalty + business_fine) if liability else expected_penalty
        logits[0, a] = (cost[a] - expected_penalty) / noise
        logits[1, a] = (gain - liable) / noise
    return logits


@compiled
def _move_propensities(shirk, collude, integrity, worthwhile, rate):
    """Move the propensities to shirk and to collude part of the way (``rate``) to the
    chance that each is worthwhile (rows of ``worthwhile``), scaled by dishonesty."""
    for a in range(len(shirk)):
        dishonesty = 1.0 - integrity[a]
        shirk[a] += rate * (dishonesty * worthwhile[0, a] - shirk[a])
        collude[a] += rate * (dishonesty * worthwhile[1, a] - collude[a])


def _update_trust(model: GovernanceModel) -> None:
    """Trust returns slowly to its initial level; complainants' trust follows whether the
    regulator acted; visible enforcement (disclosure) restores trust.

    Trust is float32, and so is this arithmetic (each number is made float32 here, once),
    except one step kept from the numpy code this replaced, so that results stay the same:
    complainants' trust moves in float64, rounded once to float32, when the share acted on
    is below 1 (it was a numpy float64 then), and in float32 when it is 1.
    """
    c = model.consumers
    sc = model.params
    recovery = sc.consumers.trust_recovery
    named = np.count_nonzero(model.businesses.complaints)
    # inspections per named business (at most 1): stands for the share acted on
    acted = min(model.tally["inspections"] / named, 1.0) if named else 1.0
    visible = 0.0
    if sc.participation.disclosure:
        visible = min(model.tally["businesses_fined"]
                      / (VISIBLE_ENFORCEMENT * model.businesses.count), 1.0)
    gain = np.float32(0.03 * visible)
    _move_trust(c.trust, np.float32(1.0 - recovery),
                np.float32(recovery * sc.consumers.initial_trust),
                c.complainants if named else c.complainants[:0], float(acted),
                isinstance(acted, np.float64), sc.participation.disclosure, 1 - gain, gain)


@compiled
def _move_trust(trust, keep, regained, complainants, acted, in_float64, disclosure,
                disclosed_keep, disclosed_gain):
    """Trust kept (``keep``) plus ``regained`` towards its initial level; complainants'
    moved ``COMPLAINT_RESPONSE`` of the way to ``acted`` (in float32, or ``in_float64``);
    under disclosure, kept (``disclosed_keep``) plus ``disclosed_gain``. Each step rounds to
    float32, as numpy's steps did.

    Every step moves trust towards a value in [0, 1] (or scales it down by at most its whole
    value), so trust stays in [0, 1] without clipping.
    """
    for i in range(len(trust)):
        kept = trust[i] * keep
        trust[i] = kept + regained
    moved = np.empty(len(complainants), dtype=np.float32)
    for k in range(len(complainants)):  # all gathered before any is written, as numpy does
        if in_float64:
            wide = np.float64(trust[complainants[k]])
            moved[k] = np.float32(wide + COMPLAINT_RESPONSE * (acted - wide))
        else:
            narrow = trust[complainants[k]]
            moved[k] = narrow + np.float32(COMPLAINT_RESPONSE) * (np.float32(acted) - narrow)
    for k in range(len(complainants)):
        trust[complainants[k]] = moved[k]
    if disclosure:
        for i in range(len(trust)):
            kept = trust[i] * disclosed_keep
            trust[i] = kept + disclosed_gain
