"""A tiny corpus for the training and tuning tests: six paragraphs in three articles, each
paragraph with the questions it answers."""

from __future__ import annotations

import json
from pathlib import Path

ARTICLES = {
    "Volcanoes": {
        "Mount Etna on Sicily is one of the most active volcanoes in the world.": [
            "Where is Mount Etna?",
            "Which volcano is among the most active?",
        ],
        "Lava is molten rock that erupts from a volcano and cools into basalt.": [
            "What does lava cool into?",
            "What is lava?",
        ],
    },
    "Bees": {
        "Honey bees communicate the direction of flowers with a waggle dance.": [
            "How do honey bees show where flowers are?",
        ],
        "A bee colony has one queen, thousands of female workers and some male drones.": [
            "What are male bees called?",
            "How many queens does a colony have?",
        ],
    },
    "Miscellany": {
        "The Danube flows through ten countries before it reaches the Black Sea.": [
            "Where does the Danube end?",
        ],
        "Copper conducts electricity well and is used in most household wiring.": [
            "Why is copper used for wiring?",
        ],
    },
}
PARAGRAPHS = {
    text: questions for article in ARTICLES.values() for text, questions in article.items()
}


def write_squad(path: Path) -> Path:
    """The corpus as a SQuAD v1.1 file (no answer spans: retrieval needs none)."""
    data = [
        {
            "title": title,
            "paragraphs": [
                {
                    "context": text,
                    "qas": [
                        {"id": f"{title}-{i}-{j}", "question": q, "answers": []}
                        for j, q in enumerate(questions)
                    ],
                }
                for i, (text, questions) in enumerate(paragraphs.items())
            ],
        }
        for title, paragraphs in ARTICLES.items()
    ]
    path.write_text(json.dumps({"version": "1.1", "data": data}), encoding="utf-8")
    return path
