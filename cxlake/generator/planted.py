"""The planted truths: every parameter the analytics should recover, written to truth.json."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Planted:
    # wait time (ready_at - ordered_at) above the threshold lowers speed/delivery CSAT and NPS
    wait_threshold_minutes: float = 10.0
    slow_store_wait_multiplier: float = 2.6
    speed_csat_penalty: float = 1.6
    delivery_csat_penalty: float = 1.0
    nps_wait_penalty: float = 0.8
    # NPS latent = intercept + sum(w_tp * (csat_tp - 3)) - wait penalty + N(0, nps_noise_sd), rounded, 0..10
    nps_intercept: float = 6.4
    nps_noise_sd: float = 1.0
    # peak-end: the recommend score leans on the worst touchpoint beyond the mean of the rated ones:
    # latent NPS += peak_end_low_weight * (min CSAT - mean CSAT + peak_end_typical_gap). The gap is
    # about what the mean of a genuine answer is above its lowest rating, so the chain's NPS level
    # (and who is a detractor) stays about where it was; the shape of an answer is what changes.
    peak_end_low_weight: float = 0.8
    peak_end_typical_gap: float = 0.9
    driver_weights: dict[str, float] = field(
        default_factory=lambda: {
            "taste": 0.85,
            "speed": 0.55,
            "staff": 0.45,
            "value": 0.40,
            "delivery": 0.35,
            "app": 0.30,
            "environment": 0.20,
        }
    )
    # CSAT_tp = round(csat_mean + offset_tp + store quality + respondent mood + N(0, csat_noise_sd)), 1..5
    csat_mean: float = 3.85
    csat_offsets: dict[str, float] = field(
        default_factory=lambda: {
            "taste": 0.15,
            "speed": 0.0,
            "staff": 0.1,
            "value": -0.35,
            "delivery": -0.1,
            "app": 0.05,
            "environment": 0.1,
        }
    )
    mood_sd: float = 0.6
    csat_noise_sd: float = 0.75
    # surveys (who is invited: the rules of cxlake/config/invitations.yaml)
    response_rate: float = 0.35
    # gaming store: its soliciting staff get their in-store invitees to answer 10 / all 5s on the
    # spot, from `gaming_start_share` of the range's days on (the days before are honest: the
    # store's NPS rises part-way through while its customers buy no more). Every one of them
    # answers, gamed: about as many gamed answers over a range as 90% answering and 80% of those
    # gamed from the first day gave. A gamed answer hides the customer's own score: when that was
    # a detractor's, no case opens and the customer churns unworked.
    gaming_response_rate: float = 1.0
    gaming_share: float = 1.0
    gaming_delay_minutes: tuple[int, int] = (1, 5)
    gaming_start_share: float = 0.25
    # detractors (NPS <= 6) buy less from the day after their response is submitted
    detractor_max: int = 6
    churn_purchase_rate_factor: float = 0.3
    # the closed loop: each store works (acknowledges, calls back, resolves) a planted share of its
    # detractors' cases; a share of the stores never does. A worked detractor recovers instead of
    # churning (purchase propensity back to this factor of normal) and scores higher next time.
    case_work_never_share: float = 0.25
    case_work_rate_range: tuple[float, float] = (0.4, 0.95)  # other stores: uniform in this range
    # each store's median minutes to acknowledge, log-uniform over the range (SLA: 1-2 h)
    case_ack_median_minutes_range: tuple[float, float] = (10.0, 480.0)
    case_ack_minutes_sd: float = 0.6  # log-normal spread around the store's median
    case_contact_after_ack_minutes: float = 30.0  # mean of the exponential wait after acknowledging
    case_resolve_after_contact_minutes: tuple[int, int] = (30, 1440)
    # a store that works cases but not this one tried and closed it as could_not_reach this often
    case_could_not_reach_share: float = 0.3
    case_contact_methods: dict[str, float] = field(default_factory=lambda: {"phone": 0.7, "wechat": 0.3})
    case_resolution_codes: dict[str, float] = field(
        default_factory=lambda: {"recovered": 0.6, "apologised": 0.25, "compensated": 0.15}
    )
    recovered_purchase_rate_factor: float = 0.9
    recovered_nps_bump: float = 1.5  # added to the latent NPS of a recovered customer's next answers
    # quality-gate plants (shares of genuine responses)
    speeder_share: float = 0.012
    straight_liner_share: float = 0.015
    duplicate_share: float = 0.01
    # reviews: probability that a mentioned aspect is positive, per brand
    review_positive: dict[str, dict[str, float]] = field(
        default_factory=lambda: {
            "栖云咖啡": {
                "taste": 0.72,
                "speed": 0.55,
                "staff": 0.7,
                "environment": 0.7,
                "value": 0.35,
                "delivery": 0.6,
            },
            "山野茶铺": {
                "taste": 0.6,
                "speed": 0.6,
                "staff": 0.6,
                "environment": 0.55,
                "value": 0.88,
                "delivery": 0.6,
            },
            "港湾咖啡": {
                "taste": 0.62,
                "speed": 0.5,
                "staff": 0.6,
                "environment": 0.65,
                "value": 0.45,
                "delivery": 0.55,
            },
        }
    )
    slow_store_review_speed_positive: float = 0.15
    # frontline (cxlake/generator/staff_mentions.py): a comment about the staff names the serving
    # staff member this often; of the planted praised / coached pair (one store) every praise /
    # complaint does, and this share of their other answers gets a named praise (staff CSAT 4-5) /
    # complaint (1-3)
    staff_named_share: float = 0.35
    planted_staff_extra_share: float = 1.0
    # Kano survey (cxlake/generator/kano.py; features: the kano: section of cxlake/config/insights.yaml):
    # each feature's planted category (A attractive, O one-dimensional, M must-be, I indifferent,
    # R reverse) is a respondent's category with kano_planted_share; R and Q (contradictory) pairs
    # come with their shares, the rest is spread evenly over the other A / O / M / I categories;
    # kano_noise_share of the pairs are any of the 25 answer combinations. Fielded on days 3-5 of
    # every 30 (0-based) to about kano_respondents_per_day members a day.
    kano_categories: dict[str, str] = field(
        default_factory=lambda: {
            "mobile_ordering": "M",
            "free_wifi": "M",
            "order_ready_notice": "O",
            "member_points": "O",
            "oat_milk": "A",
            "self_pickup_lockers": "A",
            "latte_art": "I",
            "paper_straws": "R",
        }
    )
    # Share of survey comments that end with a remark about one Kano feature, worded after its
    # planted category (cxlake/generator/feature_wishes.py).
    feature_wish_share: float = 0.08
    kano_planted_share: float = 0.55
    kano_reverse_share: float = 0.04
    kano_questionable_share: float = 0.03
    kano_noise_share: float = 0.05
    kano_respondents_per_day: float = 80.0
    kano_wave_days: tuple[int, ...] = (3, 4, 5)  # day index modulo 30
    # the ordering app (cxlake/generator/app_events.py): from the day at app_error_start_share of the
    # range on, app_error_rate of the sessions reaching the payment page get an app_error there;
    # app_error_abandon_share of those give up (extra abandoned sessions), the rest retry and order,
    # and their orders' App rating (1-5) is app_error_csat_penalty points lower (NPS untouched).
    # Without the error, app_payment_abandon_share of the sessions reaching the payment page give up there.
    app_error_page: str = "payment"
    app_error_code: str = "PAY_TIMEOUT"
    app_error_start_share: float = 0.5
    app_error_rate: float = 0.25
    app_error_abandon_share: float = 0.6
    app_payment_abandon_share: float = 0.10
    app_error_csat_penalty: float = 1.0
