"""Lightning with WandbLogger, unmodified: log_model, watch, hyperparameters, tables and images."""

import sys

import lightning as L
import torch
import wandb
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.loggers import WandbLogger


class Tiny(L.LightningModule):
    def __init__(self, lr=0.05):
        super().__init__()
        self.save_hyperparameters()
        self.net = torch.nn.Linear(4, 1)

    def training_step(self, batch, _):
        x, y = batch
        loss = torch.nn.functional.mse_loss(self.net(x), y)
        self.log("train_loss", loss)
        return loss

    def validation_step(self, batch, _):
        x, y = batch
        self.log("val_loss", torch.nn.functional.mse_loss(self.net(x), y))

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=self.hparams.lr)


g = torch.Generator().manual_seed(0)
x = torch.randn(64, 4, generator=g)
y = x.sum(dim=1, keepdim=True)
data = torch.utils.data.TensorDataset(x, y)
train = torch.utils.data.DataLoader(data, batch_size=16)
val = torch.utils.data.DataLoader(data, batch_size=32)
model = Tiny()
wandb_logger = WandbLogger(project="pl", name="pl-tiny", log_model=True, save_dir=sys.argv[1] if len(sys.argv) > 1 else ".")
wandb_logger.watch(model, log="all", log_freq=1)
wandb_logger.log_hyperparams({"batch_size": 16})
trainer = L.Trainer(max_epochs=3, logger=wandb_logger, accelerator="cpu", enable_progress_bar=False,
                    callbacks=[ModelCheckpoint(monitor="val_loss", mode="min")], log_every_n_steps=1,
                    enable_model_summary=False)
trainer.fit(model, train, val)
trainer.validate(model, val)
if hasattr(wandb, "Table"):
    wandb_logger.log_table("samples", columns=["x", "y"], data=[[1.0, 2.0], [3.0, 4.0]])
if hasattr(wandb, "Image"):
    import numpy as np  # noqa: E402
    wandb_logger.log_image("pictures", images=[np.zeros((8, 8, 3), dtype=np.uint8)])
wandb.finish()
print("RUN", wandb_logger.version)
