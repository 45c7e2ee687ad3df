"""The relevance harness (bench/relevance/run.py) checks itself.

It scores search quality, so a bug in it would mislead every change measured
with it. These tests check the metric against hand-computed values, that the
judged sets are well-formed and were judged on the catalog the generator
writes today, and run the whole harness on the generated set: a private
stack, the three systems, the results file. The real retailer catalog is
never needed here (it lives outside the project).
"""

import json
import math
import os
import shutil
import sys
import tempfile
import unittest

import harness

BENCH = os.path.join(harness.SRC_DIR, "bench", "relevance")
sys.path.insert(0, BENCH)
import judge_generated  # noqa: E402
import run as relevance  # noqa: E402


class MetricTest(unittest.TestCase):
    """nDCG@10 as documented: gain 2^g - 1, log2(rank + 1) discount."""

    def test_perfect_ranking_scores_one(self):
        grades = {"a": 2, "b": 1, "c": 1}
        self.assertAlmostEqual(relevance.ndcg(["a", "b", "c"], grades), 1.0)
        self.assertAlmostEqual(relevance.ndcg(["a", "c", "b", "x"], grades), 1.0)

    def test_hand_computed_value(self):
        grades = {"a": 2, "b": 1}
        # ranked b, x, a: gains 1, 0, 3 against the ideal 3, 1
        dcg = 1 / math.log2(2) + 3 / math.log2(4)
        idcg = 3 / math.log2(2) + 1 / math.log2(3)
        self.assertAlmostEqual(relevance.ndcg(["b", "x", "a"], grades), dcg / idcg)

    def test_unjudged_and_beyond_ten_count_nothing(self):
        grades = {"a": 2}
        self.assertEqual(relevance.ndcg(["x%d" % i for i in range(10)] + ["a"], grades), 0.0)
        self.assertEqual(relevance.ndcg([], grades), 0.0)

    def test_query_without_a_right_answer(self):
        self.assertEqual(relevance.ndcg([], {}), 1.0)
        self.assertEqual(relevance.ndcg(["x"], {}), 0.0)
        self.assertEqual(relevance.ndcg([], {"a": 0}), 1.0)

    def test_real_catalog_keys_are_hashes(self):
        self.assertEqual(relevance.sku_key("RL-X", "sku"), "RL-X")
        self.assertEqual(len(relevance.sku_key("RL-X", "sha256-16")), 16)
        self.assertNotIn("RL", relevance.sku_key("RL-X", "sha256-16"))


class JudgmentsTest(unittest.TestCase):
    """Both judged sets: every kind, enough queries, grades 0-2."""

    def check_set(self, j, per_kind):
        kinds = {}
        for q in j["queries"]:
            kinds[q["kind"]] = kinds.get(q["kind"], 0) + 1
            self.assertTrue(q["q"].strip() and q["want"].strip(), q["id"])
        self.assertEqual(set(kinds), set(relevance.KINDS))
        for kind, n in kinds.items():
            self.assertGreaterEqual(n, per_kind, kind)
        # A query with no right answer is its own kind; every other query has one.
        for q in j["queries"]:
            if q["kind"] != "noanswer":
                self.assertTrue(any(g > 0 for g in q["grades"].values()), q["id"])

    def test_real_set(self):
        j = relevance.load_judgments(relevance.SETS["real"])
        self.assertEqual(j["keys"], "sha256-16")   # no part of the catalog in the project
        self.check_set(j, 15)

    def test_generated_set_was_judged_on_todays_generator(self):
        j = relevance.load_judgments(relevance.SETS["generated"])
        self.check_set(j, 8)
        tmp = tempfile.mkdtemp(prefix="troika-it-relevance-")
        try:
            products = judge_generated.generate(os.path.join(tmp, "catalog.jsonl"))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        self.assertEqual(judge_generated.fingerprint(products), j["catalog"]["fingerprint"],
                         "the generator writes other products than were judged: run "
                         "bench/relevance/judge_generated.py and review the diff")
        skus = {p["sku"] for p in products}
        for q in j["queries"]:
            self.assertLessEqual(set(q["grades"]), skus, q["id"])
        # The file is what the rules give (nobody edited grades by hand).
        self.assertEqual(judge_generated.judge(products), j["queries"])


class HarnessRunTest(unittest.TestCase):
    """The whole harness on the generated set, as a developer runs it."""

    def test_generated_run(self):
        tmp = tempfile.mkdtemp(prefix="troika-it-relevance-")
        try:
            out, js = os.path.join(tmp, "relevance.md"), os.path.join(tmp, "relevance.json")
            rc = relevance.main(["--catalog", "generated", "--out", out, "--json", js])
            self.assertEqual(rc, 0)
            with open(out, encoding="utf-8") as f:
                text = f.read()
            with open(js, encoding="utf-8") as f:
                data = json.load(f)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        self.assertIn("## generated catalog", text)
        self.assertNotIn("Warning", text)
        for name in relevance.NAMES.values():
            self.assertIn(name, text)
        summ = data["generated"]["summary"]
        self.assertEqual(set(summ), set(relevance.KINDS) | {"overall"})
        for kind, row in summ.items():
            for s in relevance.SYSTEMS:
                self.assertTrue(0.0 <= row[s] <= 1.0, (kind, s, row[s]))
        # Plain keywords are easy for all three: a harness that mislabels
        # results (wrong sku, wrong set) scores far lower.
        for s in relevance.SYSTEMS:
            self.assertGreater(summ["keyword"][s], 0.8, s)
        rows = data["generated"]["queries"]
        self.assertEqual(len(rows), len(relevance.load_judgments(relevance.SETS["generated"])["queries"]))
        for r in rows:
            for s in relevance.SYSTEMS:
                self.assertLessEqual(r["sys"][s]["n"], relevance.K)


if __name__ == "__main__":
    unittest.main()
