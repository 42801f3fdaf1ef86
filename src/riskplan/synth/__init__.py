"""A synthetic district a bureau would recognise, generated from a latent true risk.

Why: the scoring model and the roster solver need realistic data of every size (S–XL) to be
developed, tested and benchmarked honestly, and the model needs a known truth to be
evaluated against. `make_district` builds one in memory; `generate_district` writes it
as a district folder (plus `truth.csv`, for evaluation only).

How the district is made (all randomness from one `numpy.random.Generator(PCG64(seed))`,
consumed in a fixed order, so the same seed gives byte-identical files):

1. Geography: 8–20 subdistricts (街道, more for larger districts) and 1–3 industrial parks
   (工业园区, treated as subdistricts) around a city centre near Suzhou (WGS84). Enterprises
   scatter around their area's centre (parks denser) and belong to the community grid
   (网格, ids like ``JD03-G012``) whose centre is nearest.
2. Attributes: industry (parks lean to chemicals, metallurgy, machinery), size class
   (most micro/small), headcount, hazardous-chemical role, major hazard installation
   (level 1 rare … 4), explosive dust, molten metal, confined space, standardization grade
   (larger and hazchem firms more often graded). Hazards cluster in their industries and
   in parks. Ids are valid unified social credit codes (``91`` + admin division code + a
   random organisation code + check character); names are Chinese.
3. Latent true risk ``r(t)`` per enterprise: hazard terms + size + grade + industry, non-linear
   interactions (hazchem without a grade, explosive dust in micro/small firms, molten metal
   without a grade, a major hazard installation in a firm with a poor safety culture), an
   unobserved safety culture ``u ~ N(0, SIGMA_U)``, a drift over time (graded firms improve,
   some firms worsen) and a yearly shock ``e ~ N(0, SIGMA_SHOCK)``. From ``r``:
     - accidents: Poisson, rate ``exp(A0 + r + exposure(employees))`` a year; severity
       pyramid minor ≫ serious ≫ major ≫ extraordinary (hazardous firms' accidents are more
       often severe); deaths mostly 0, more for severe ones;
     - per visit: major hazards found ~ Poisson(``exp(M0 + M1·r)``), other hazards ~
       Poisson(``exp(H0 + H1·r)`` × the team's stringency), penalised more often with findings.
   Inspector stringency changes what is found: it is noise, not risk.
4. The bureau's usual visits (its annual plan, revised each year from the previous year's
   record): routine visits Poisson at ``v = min(V_MAX, exp(V0 + perceived risk))`` a year,
   where perceived risk = visible hazards + the firm's reputation (``V_R·r`` without the
   shock) + last year's major hazards and accidents; plus a follow-up visit after most
   accidents and a re-check after a major hazard found. Teams: 2 inspectors (sometimes 3),
   mostly from the area's station or the district brigade.
5. Truth: the event is a serious-or-worse accident or a visit finding ≥ 1 major hazard.
   In the 12 months after ``end`` the event arrives as the superposition of Poisson
   processes, rate ``λ_serious+ + (v + F_ACC·λ_minor)·q`` with ``q = 1 − exp(−μ_major)``, so
   ``p_event_12m = E_e[1 − exp(−rate(e))]``, the shock integrated by Gauss–Hermite
   quadrature: exactly the mechanism that generated the history (checked against a
   simulated future in the tests).
6. Inspectors: district brigade squads (执法一中队 …, no home subdistrict, ~30%) and
   subdistrict stations (…应急消防管理站); ~93% certified; qualifications (hazchem ~1/3,
   dust, metallurgy, mining, fire, general); leave in the following year; a few conflicts
   of interest; a few pinned visits in the quarter after ``end``.

Capacity calibration (why weekly_capacity is what it is): the next quarter's demand is
estimated with true-probability tiers as a proxy for the model's tiers under the default
policy — red (p ≥ 0.30) 3 visits, orange 1 visit when its last visit + 182 days falls in
the quarter or before, follow-ups (latest visit found a major hazard; serious-or-worse
accident in the 31 days before the quarter and no visit since) and pinned visits, then
10 % of eligible yellow and 3 % of eligible blue (not visited in the last 90 days, no
obligation) — times ``team_size`` = 2 inspector-visits. Supply is computed exactly as the
planner will (riskplan.domain.calendar: floor(capacity × available days ÷ 5) per ISO week, leave
removed, certified inspectors only). Weekly capacities are integers ``round(s × w_i)``
(``w_i`` an inspector's relative capacity) with the smallest scale ``s`` at which the
*reference* inspector count of the size (S 30 per 2,000 enterprises, M 60 per 8,000, …,
scaled to ``n_enterprises`` when that is overridden) is loaded at most ``TARGET_LOAD``
(80 %) over the quarter and at most ``MONTH1_LOAD`` (95 %) in month 1. Month 1 is the
binding one in practice: every red's first visit, every overdue orange (the bureau's past
visits were not risk-based, so many are overdue), the follow-ups and the early pinned visits
fall there, while its first ISO week (1 January, a Friday) carries no capacity, so the
quarter as a whole is loaded at most ``TARGET_LOAD`` while month 1 sits near ``MONTH1_LOAD``
(`SyntheticDistrict.capacity` records the loads of each generated district). Specialists are kept in step: at least
35 % of certified inspectors hold hazchem, 20 % dust, 15 % metallurgy. Overriding ``n_inspectors`` keeps the per-inspector capacity, so fewer inspectors
give a starved district and more give slack. `SyntheticDistrict.capacity` records demand,
supply and load. Because S is staffed twice as densely as M–XL (30 per 2,000 against
60 per 8,000), S and the sample district get weekly capacities of about 2, M–XL about 4.

The constants below were tuned so that the truth gives a plausible tier mix under the
default thresholds (a small red share, blue the large majority; docs/tiers.md) and so that
the risk is learnable from the history but not from a deduction table: a model trained on
the history should clearly beat the 100-point rule baseline. The figures themselves are
measured by the benchmarks (benchmarks/bench_synth.py), not stated here, so this text stays
true when the generator changes.
"""

from riskplan.synth.capacity import estimate_demand, quarter_supply
from riskplan.synth.common import SIZES, true_tiers
from riskplan.synth.district import SyntheticDistrict, generate_district, make_district

__all__ = ["SIZES", "SyntheticDistrict", "make_district", "generate_district", "true_tiers", "estimate_demand",
           "quarter_supply"]
