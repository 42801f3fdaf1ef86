"""The roster solver: turn the quarter's visit requests into dated visits with random teams.

Why a decomposition: a textbook CP-SAT model with one boolean per (visit, inspector, day)
(`benchmarks/textbook.py`) grows with visits x inspectors x days and stalls from district size M
up. Here no model ever sees that product. The solve runs in three phases:

1. **Aggregate week plan (CP-SAT).** Requests are grouped into classes of identical
   (mandatory?, rule, tier, subdistrict, required qualifications, window). One integer
   variable per (class, ISO week the window touches) counts the class's visits placed that
   week. Constraints are aggregate capacities per week: inspector-visit slots of all
   certified inspectors (each inspector's ISO-week limit, `weekly_limit`, and the daily
   limit times their non-leave days), per sub-range of a week that a window boundary cuts,
   per qualification (a visit needing a qualification takes at least one slot of a holder)
   and, with `cross_area`, per subdistrict from the inspectors based elsewhere. It is
   solved lexicographically in stages (`plan_weeks`): A maximises placements, every
   mandatory visit weighing more than all drawn ones together (stopping as soon as all
   fit; when A is proven optimal its unplaced mandatory count is a lower bound on any
   roster's, reported as `mandatory_shortfall_bound`); B keeps those totals and minimises
   the inspector stops the weeks' capacity structure forces (stops >= inspector-visits /
   daily limit; inspector-visits beyond what full days absorb cost a stop each) plus load
   above the quarter's utilisation plus a margin of 0.05, and spreads the drawn visits over
   the quarter (each week about its share of the working days, within the room the mandatory
   visits leave: `SPREAD_WEIGHT`, `CROWDED`); C adds a penalty per subdistrict-week with a
   single visit (a lone visit cannot share a team-day), hinted with B, and is skipped on a
   starved quarter (mandatory visits do not all fit).
   Size: classes x weeks, independent of the number of enterprises and inspectors. A
   subdistrict's lone visit of a week is then moved, within its window and the week
   capacities, to a week where that subdistrict has others (`merge_lone_visits`).
2. **Concrete days and teams, week by week (seeded randomized matching).** Each class's
   weekly quota is filled with concrete requests (enterprises with several visits first,
   spread so `visit_spacing` can hold); each request gets a day of the week (balancing
   daily load, preferring days where its subdistrict already has a visit so teams can
   share a day), then each (subdistrict, day) cluster gets teams: members are drawn at
   random among the eligible with seeded Efraimidis-Spirakis keys weighted towards
   inspectors behind their load target, re-using inspectors already in that subdistrict
   that day first (cyclic sharing: m visits need only ceil(team_size x m / daily limit)
   inspector stops).
   Weekly limits are rounded down to whole team-days during this phase (odd leftovers
   cost a stop each), and scarce qualifications are kept for the visits that need them
   (`qualification_scarcity`). Two inspectors making a one-visit trip to one
   subdistrict-day are then merged (`pair_singles_pass`, see phase 3).
3. **Repair and polish.** Requests left over try every feasible day of their window
   (`feasible_days` evaluates the rules on the whole window at once), the days where
   eligible inspectors are already out in their subdistrict first (`_new_stops`: fewest
   new stops); a mandatory one that
   still does not fit may re-plan its enterprise's visits chronologically (rotation and
   spacing chain them: `_replan_enterprise`), swap a blocked inspector out of another
   visit (`_swap_free`) or displace a drawn visit. Then, all bounded by counts: whole inspector-days move from
   inspectors above their load target to ones below (`balance_pass`, travel unchanged),
   visits that cost a trip of their own move to days their subdistrict already has a team
   out (`relocate_pass`), single members are swapped when travel + balance drops
   (`improve_pass`) and two inspectors who each make a one-visit trip to the same
   subdistrict-day are merged into one full day, the other taking a visit of theirs
   elsewhere in the week so weekly loads stay as they are (`pair_singles_pass`; mostly
   the odd weekly limits and the visits repair added). Whatever is still unplaced goes to `Roster.unplaced` with a
   diagnosed reason (see `riskplan.solve.shortfall`).

Every hard rule is one function of `riskplan.solve.rules`, numbered and named as in
docs/rules.md (rules 1-9; the checker uses the same names; rule 11, the random team, is
`teams.random_assignment`). Every pass, the greedy baseline (`riskplan.solve.greedy`) and the
shortfall diagnosis ask those functions (composed in `eligible_inspectors`,
`eligible_matrix` and `feasible_days`) and every placement draws its team from their mask,
so a roster is valid by construction. If phase 1 finds nothing, time runs out or the user interrupts, the greedy
roster is returned with status GREEDY_FALLBACK.

Before any phase, `degenerate.nothing_to_plan` refuses a quarter on which no visit can be
placed at all (no working day, too few certified inspectors, no capacity) with one named cause.

Determinism: one CP-SAT worker, `random_seed` from the seed and a deterministic time
limit (`max_deterministic_time`); numpy's seeded generator for every random choice; no
iteration over sets of strings; every repair and polish loop is bounded by counts, never
by the clock. Same inputs + seed + options give the same roster. The wall-clock limits
are safety nets only: CP-SAT's is set above the deterministic one, and a solve that runs
past `time_limit` is abandoned for the (equally seeded) greedy roster.

Soft objective (reported in `SolveResult.objective`): travel = inspector stops, the number
of distinct (inspector, day, subdistrict) triples; balance = sum over inspectors of
|load - target|, target proportional to their available capacity. Lower bound
(`SolveResult.bound`): travel >= the larger of (a) the sum over subdistricts of
max(team_size, ceil(team_size x visits / daily limit)) (each stop serves at most `daily
limit` of the subdistrict's inspector-visits), (b) the fewest stops the inspector-weeks
can serve the inspector-visits with (an inspector-week of limit L has floor(L / k) stops of
k visits and one of L mod k) and (c) CP-SAT's proven bound on the aggregate week model
with the placed visits fixed and only the stops minimised (windows and weekly capacity
respected; `build_week_model(bound_only=True)`), a relaxation of every roster; balance >=
the deviation of the best integer rounding of the targets (largest remainder); both for
the placed visits."""
