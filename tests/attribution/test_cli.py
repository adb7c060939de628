"""``prt attribution code | train | evaluate`` end to end; bad input -> one line, exit 2."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from .conftest import BANK


@pytest.fixture()
def files(tmp_path):
    training = tmp_path / "training.csv"
    rows = [(f"p{rep}-{cat}-{j}", "pre", 1, words, cat) for rep in range(4)
            for cat, answers in BANK.items() for j, words in enumerate(answers)]
    pd.DataFrame(rows, columns=["participant", "timepoint", "slot", "text", "category"]).to_csv(training, index=False)
    answers = tmp_path / "answers.csv"
    pd.DataFrame({"participant": ["1", "1", "1", "2"], "timepoint": ["pre"] * 4, "slot": [1, 2, 3, 1],
                  "text": ["Stress at work", "=HYPERLINK(\"x\")", "a fall on ice", "?"]}).to_csv(answers, index=False)
    return tmp_path, training, answers


def test_code_with_the_lemma_coder(prt_main, files, capsys):
    tmp, _, answers = files
    out = tmp / "coded.csv"
    assert prt_main(["attribution", "code", str(answers), "--out", str(out)]) == 0
    assert "coded 4 answers with the lemma coder: 1 mind-brain, 2 queued" in capsys.readouterr().out
    coded = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert coded["category"].tolist() == ["stress", "other", "injury", "other"]
    assert coded["rule"].tolist() == ["lemma", "no_match", "lemma", "dont_know"]
    assert coded.loc[1, "text"].startswith("'=")  # a formula-like answer is neutralised (OWASP)
    assert {"needs_review", "confidence", "review_category", "category_12"} <= set(coded.columns)


def test_train_then_code_with_the_model_and_reviews(prt_main, files, capsys):
    tmp, training, answers = files
    model = tmp / "m.npz"
    assert prt_main(["attribution", "train", str(training), "--out", str(model)]) == 0
    assert "trained the ngram coder on 132 answers (17 categories)" in capsys.readouterr().out
    coded = tmp / "coded.csv"
    assert prt_main(["attribution", "code", str(answers), "--out", str(coded), "--model", str(model)]) == 0
    sheet = pd.read_csv(coded, dtype=str, keep_default_na=False)
    assert sheet["coder"].eq("ngram").all() and sheet.loc[0, "mind_brain"] == "True"
    sheet.loc[2, "review_category"] = "Injury"
    sheet.to_csv(coded, index=False)
    final = tmp / "final.csv"
    assert prt_main(["attribution", "code", str(answers), "--out", str(final), "--model", str(model),
                     "--reviews", str(coded)]) == 0
    final = pd.read_csv(final, dtype=str, keep_default_na=False)
    assert final.loc[2, "category"] == "injury" and final.loc[2, "decided_by"] == "human"
    assert final.loc[2, "needs_review"] == "False"


def test_code_trains_on_the_fly(prt_main, files):
    tmp, training, answers = files
    assert prt_main(["attribution", "code", str(answers), "--out", str(tmp / "c.csv"), "--training", str(training)]) == 0
    assert pd.read_csv(tmp / "c.csv")["coder"].eq("ngram").all()


def test_evaluate_prints_the_table(prt_main, files, capsys):
    _, training, _ = files
    assert prt_main(["attribution", "evaluate", str(training), "--coders", "lemma,ngram", "--folds", "3"]) == 0
    out = capsys.readouterr().out
    assert "3-fold cross-validation" in out and out.count("\nlemma") == 1 and "\nngram" in out
    assert prt_main(["attribution", "evaluate", str(training), "--coders", "lemma", "--folds", "3", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["agreement"][0]["coder"] == "lemma" and payload["targets"]["kappa_17"] == 0.71


@pytest.mark.parametrize("args,message", [
    (["code", "{answers}", "--out", "{tmp}/x.csv", "--coder", "ngram"], "must be trained first"),
    (["code", "{answers}", "--out", "{tmp}/x.csv", "--model", "{answers}"], "not a prt attribution model"),
    (["code", "{answers}", "--out", "{tmp}/x.csv", "--model", "{tmp}/m", "--training", "{training}"], "not both"),
    (["code", "{bad}", "--out", "{tmp}/x.csv"], "line 3, record 2: the answer is empty"),
    (["train", "{answers}", "--out", "{tmp}/m.npz"], "no 'category' column"),
    (["train", "{badcat}", "--out", "{tmp}/m.npz"], "line 2, record 1, pre, cause 1: category: unknown category"),
    (["evaluate", "{training}", "--coders", "forest"], "--coders: expected some of"),
])
def test_bad_input_is_one_line_and_exit_2(prt_main, files, capsys, args, message):
    tmp, training, answers = files
    (tmp / "bad.csv").write_text("participant,text\n1,stress\n2,\"  \"\n")
    (tmp / "badcat.csv").write_text("participant,timepoint,slot,text,category\n1,pre,1,a fall,trauma\n")
    fill = {"tmp": tmp, "training": training, "answers": answers, "bad": tmp / "bad.csv", "badcat": tmp / "badcat.csv"}
    assert prt_main(["attribution", *[a.format(**fill) for a in args]]) == 2
    err = capsys.readouterr().err
    assert err.startswith("prt attribution ") and message in err and err.count("\n") == 1
    assert not (tmp / "x.csv").exists()


def test_attribution_alone_prints_help(prt_main, capsys):
    assert prt_main(["attribution"]) == 2
    assert "code" in capsys.readouterr().out


@pytest.mark.shared_data
def test_code_the_shared_export(prt_main, boulder_wide_path, tmp_path, capsys):
    out = tmp_path / "coded.csv"
    assert prt_main(["attribution", "code", str(boulder_wide_path), "--out", str(out)]) == 0
    coded = pd.read_csv(out, dtype={"participant": str})
    assert len(coded) == 858 and coded["human_category"].notna().all()
    assert (coded["category"] == coded["human_category"]).mean() > 0.7
