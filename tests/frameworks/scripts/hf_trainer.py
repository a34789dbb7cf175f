"""HF Trainer, unmodified, reporting to W&B: a tiny BERT built in code, synthetic tokens, no hub."""

import torch
import wandb
from transformers import BertConfig, BertForSequenceClassification, Trainer, TrainingArguments

torch.manual_seed(0)
cfg = BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                 intermediate_size=32, max_position_embeddings=16, num_labels=2)
model = BertForSequenceClassification(cfg)


class Tokens(torch.utils.data.Dataset):
    def __init__(self, n, seed):
        g = torch.Generator().manual_seed(seed)
        self.x = torch.randint(0, 50, (n, 8), generator=g)
        self.y = (self.x[:, 0] > 25).long()

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return {"input_ids": self.x[i], "attention_mask": torch.ones(8, dtype=torch.long), "labels": self.y[i]}


args = TrainingArguments(output_dir="out", report_to=["wandb"], per_device_train_batch_size=8,
                         num_train_epochs=2, logging_steps=2, eval_strategy="epoch", save_strategy="no",
                         use_cpu=True, run_name="hf-tiny", disable_tqdm=True, learning_rate=1e-3)
trainer = Trainer(model=model, args=args, train_dataset=Tokens(64, 1), eval_dataset=Tokens(16, 2))
trainer.train()
print("eval", trainer.evaluate())
print("predict", trainer.predict(Tokens(16, 3)).metrics)
wandb.finish()
