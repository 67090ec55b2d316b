"""The shipped sentiment model: loads, scores new sentences of three domains, refuses a wrong scikit-learn."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from cxlake.text.sentiment import (
    ModelVersionError,
    default_model_path,
    label,
    load_model,
    prepare,
    read_model,
)
from cxlake.text.training import Config, default_data_dir, evaluate_and_train

# Written for this test, not taken from the corpora: (text, expected label).
SENTENCES = [
    # food delivery
    ("外卖送得很快，饭菜还是热的，好吃", "positive"),
    ("骑手很准时，包装也很严实", "positive"),
    ("等了两个小时才送到，菜全凉了", "negative"),
    ("汤洒了一半，再也不点这家了", "negative"),
    ("分量太少了，还特别咸，难吃", "negative"),
    # hotel
    ("房间干净整洁，前台服务热情，下次还住", "positive"),
    ("早餐丰富，位置方便，性价比很高", "positive"),
    ("隔音太差，一晚上没睡好，空调还坏了", "negative"),
    ("床单有污渍，卫生间很脏，非常失望", "negative"),
    ("前台态度恶劣，办入住等了一个小时", "negative"),
    # coffee shop (our business)
    ("燕麦拿铁很好喝，店员小姐姐很热情", "positive"),
    ("咖啡豆很香，环境很安静，适合办公", "positive"),
    ("小程序点单很方便，出餐也很快", "positive"),
    ("生椰拿铁味道不错，价格也实惠", "positive"),
    ("拿铁太难喝了，一股焦味", "negative"),
    ("出餐太慢，等了二十分钟，店员还很冷漠", "negative"),
    ("小程序老是闪退，优惠券也用不了，太失望了", "negative"),
    ("桌子很脏，店里太吵了，不会再来", "negative"),
    ("牛角包不新鲜，咖啡也是凉的，很差", "negative"),
    ("服務態度很好，咖啡很好喝", "positive"),  # traditional characters
]
DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "reviews"


def test_shipped_model_scores_new_sentences_of_three_domains():
    model = load_model()
    probabilities = model.predict_proba([text for text, _ in SENTENCES])
    predicted = [label(p) for p in probabilities]
    accuracy = np.mean([p == want for p, (_, want) in zip(predicted, SENTENCES, strict=True)])
    assert probabilities.shape == (len(SENTENCES),)
    assert ((probabilities >= 0) & (probabilities <= 1)).all()
    assert accuracy >= 0.9, list(zip(predicted, SENTENCES, strict=True))


def test_shipped_model_is_cached_and_scores_empty_input():
    assert load_model() is load_model()
    assert load_model().predict_proba([]).shape == (0,)
    assert load_model().predict_proba([""]).shape == (1,)


def test_shipped_metadata_names_version_checksums_and_metrics():
    meta = load_model().metadata
    assert meta["version"].startswith("sentiment-")
    assert set(meta["training_data"]) == {"waimai", "hotel"}
    assert all(len(d["sha256"]) == 64 and d["rows_used"] > 7000 for d in meta["training_data"].values())
    evaluation = meta["evaluation"]
    assert set(evaluation["directions"]) == {"waimai->hotel", "hotel->waimai"}
    for result in evaluation["directions"].values():
        assert set(result["methods"]) == {"ours", "tfidf_char_lr", "tfidf_char_lr_balanced", "lexicon_hownet"}
        ours = result["methods"]["ours"]["macro_f1"]
        assert ours >= result["methods"]["tfidf_char_lr"]["macro_f1"]
        assert ours >= result["methods"]["tfidf_char_lr_balanced"]["macro_f1"]
        assert ours >= result["methods"]["lexicon_hownet"]["macro_f1"]  # not worse in either direction
    # better on the mean of both directions than either baseline, by more than the bootstrap interval
    assert evaluation["bootstrap_ours_minus_tfidf_char_lr_macro_f1_95ci"]["mean"][0] > 0
    assert evaluation["bootstrap_ours_minus_tfidf_char_lr_balanced_macro_f1_95ci"]["mean"][0] > 0
    assert evaluation["bootstrap_ours_minus_lexicon_hownet_macro_f1_95ci"]["mean"][0] > 0


def test_scoring_prepared_texts_gives_the_same_probabilities_as_scoring_the_texts():
    model = load_model()
    texts = [text for text, _ in SENTENCES]
    prepared = prepare(texts)
    np.testing.assert_allclose(model.predict_prepared(prepared), model.predict_proba(texts))
    assert prepared.tokens[0][:3] == ["外卖", "送", "得"]  # plain tokens, punctuation gone
    assert "¬好" in prepared.words[7].split(" ")  # 没睡好: 好 read as negated


def test_shipped_model_file_is_small():
    assert default_model_path().stat().st_size < 5_000_000


def test_a_model_saved_by_another_scikit_learn_minor_is_refused(tmp_path):
    model_file = tmp_path / "sentiment.joblib"
    shutil.copy(default_model_path(), model_file)
    meta = json.loads(default_model_path().with_suffix(".json").read_text(encoding="utf-8"))
    meta["sklearn_version"] = "1.4.2"
    model_file.with_suffix(".json").write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(ModelVersionError, match="1.4.2"):
        read_model(model_file)


def test_missing_model_says_how_to_make_one(tmp_path):
    with pytest.raises(FileNotFoundError, match="train-sentiment"):
        read_model(tmp_path / "sentiment.joblib")


def test_label_cuts_at_one_half():
    assert [label(p) for p in (0.0, 0.49, 0.5, 1.0)] == ["negative", "negative", "positive", "positive"]


def test_training_on_a_slice_saves_a_model_that_loads_and_scores(tmp_path):
    assert default_data_dir() == DATA
    out = tmp_path / "sentiment.joblib"
    config = Config(word_features=2_000, pivot_features=1_000, c_grid=(1.0,))
    model, evaluation = evaluate_and_train(DATA, out, config, draws=50, limit=1_000)
    loaded = read_model(out)
    assert loaded.version == model.version
    assert loaded.metadata["training_data"]["waimai"]["rows_used"] <= 1_000
    assert loaded.metadata["evaluation"] == json.loads(json.dumps(evaluation))
    scored = loaded.predict_proba(["房间干净，服务热情", "太难吃了，送得还慢"])
    np.testing.assert_allclose(scored, model.predict_proba(["房间干净，服务热情", "太难吃了，送得还慢"]))
    assert scored[0] > scored[1]
