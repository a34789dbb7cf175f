"""W&B's PyTorch quickstart on synthetic data: watch the model, log each epoch, save the
model file with the run and as an artifact."""

import torch

import logger as wandb

config = {"lr": 0.05, "epochs": 5, "hidden": 8}
with wandb.init(project="pytorch-demo", config=config) as run:
    torch.manual_seed(0)
    x = torch.randn(128, 4)
    y = (x.sum(dim=1) > 0).long()
    model = torch.nn.Sequential(torch.nn.Linear(4, wandb.config.hidden), torch.nn.ReLU(),
                                torch.nn.Linear(wandb.config.hidden, 2))
    wandb.watch(model, log="all", log_freq=10)
    opt = torch.optim.SGD(model.parameters(), lr=wandb.config.lr)
    for epoch in range(wandb.config.epochs):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        acc = (model(x).argmax(dim=1) == y).float().mean()
        wandb.log({"epoch": epoch, "loss": loss, "acc": acc})
    torch.save(model.state_dict(), "model.pt")
    wandb.save("model.pt")
    run.log_artifact(model, name="mlp", type="model")
