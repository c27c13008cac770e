import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('invoicing', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='invoice',
            name='reason',
            field=models.TextField(blank=True, help_text='For a credit note: why it was raised.'),
        ),
        migrations.AddField(
            model_name='invoiceline',
            name='deducted_invoice',
            field=models.ForeignKey(blank=True, help_text='On a final invoice: the earlier invoice this line nets off.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='invoicing.invoice'),
        ),
    ]
