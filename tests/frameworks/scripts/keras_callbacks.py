"""Keras 3 (torch backend) with W&B's callbacks, unmodified."""

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras
import numpy as np
import wandb
from wandb.integration.keras import WandbMetricsLogger, WandbModelCheckpoint

run = wandb.init(project="keras", config={"epochs": 3, "batch_size": 16})
rng = np.random.default_rng(0)
x = rng.normal(size=(64, 4)).astype("float32")
y = (x.sum(axis=1) > 0).astype("float32")
model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"),
                          keras.layers.Dense(1, activation="sigmoid")])
model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
model.fit(x, y, epochs=wandb.config.epochs, batch_size=wandb.config.batch_size, validation_split=0.25,
          verbose=0, callbacks=[WandbMetricsLogger(log_freq="batch"),
                                WandbModelCheckpoint("model.keras", monitor="val_loss")])
wandb.finish()
