"""GitHub kaggle-melbourne_properties: a tanh 20-20-1 MLP regressing raw Kaggle house prices (train.csv, 74
integer-coded features, no normalization) with MSE, Adam, batch size 1, validation_split=0.2, epochs=10 from
initial_epoch=1 (``--type TFN``, other arguments at their defaults, as the Correct folder's plot name shows).
The fix builds the same 20-20-1 tanh/tanh/linear stack from ``--model``, with the activations inside the Dense layers
(glorot_normal on the output layer too), drops ``metrics=['accuracy']`` and restores the program's EarlyStopping
(``patience=num_epochs - 10`` = 0); DeepFD labels it "Activation" and "Layer Properties".
The Correct version is not a control (``correct=False``): it is the same network on the same unscaled data and
fails the same way (validation R² -4.9 for both here); it is ported below all the same.
"""

from __future__ import annotations

import csv
import io

import numpy as np

from ..harness import Case, Mirror, Program

CASE = Case(
    name="gh_melbourne",
    repo="Wardat-ISU/DeepLocalize",
    path="Benchmark/GitHub/{variant} Model/kaggle-melbourne_properties",
    labels=("activation", "layers"),
    summary="Tanh 20-20-1 MLP on unnormalized Kaggle house prices, batch size 1; the fix rewrites the layers.",
    deviations=(
        "DeepLocalize's instrumentation callback is dropped",
        "the program's pandas preprocessing (fill the missing values, integer-code the categories, drop the "
        "two GrLivArea >= 4000 outliers) is re-stated with csv/numpy",
        "the model is named 'TFN-Adam' instead of '-TFN-Adam' (TensorFlow rejects a scope name starting with '-')",
    ),
    correct=False,
)

#: The program's integer codes (its fill_*_up / convert_* functions), per column.
CODES: dict[str, dict[str, int]] = {
    "Alley": {"Grvl": 1, "Pave": 2},
    "FireplaceQu": {"Po": 1, "Fa": 2, "TA": 3, "Gd": 4, "Ex": 5},
    "GarageType": {"Detchd": 1, "CarPort": 2, "BuiltIn": 3, "Basment": 4, "Attchd": 5, "2Types": 6},
    "GarageQual": {"Po": 1, "Fa": 2, "TA": 3, "Gd": 4, "Ex": 5},
    "GarageCond": {"Po": 1, "Fa": 2, "TA": 3, "Gd": 4, "Ex": 5},
    "GarageFinish": {"Unf": 1, "RFn": 2, "Fin": 3},
    "PoolQC": {"Fa": 1, "TA": 2, "Gd": 3, "Ex": 4},
    "Fence": {"MnWw": 1, "GdWo": 2, "MnPrv": 3, "GdPrv": 4},
    "MiscFeature": {"Elev": 1, "Gar2": 2, "TenC": 3, "Shed": 4, "Othr": 5},
    "BsmtQual": {"Po": 1, "Fa": 2, "TA": 3, "Gd": 4, "Ex": 5},
    "BsmtCond": {"Po": 1, "Fa": 2, "TA": 3, "Gd": 4, "Ex": 5},
    "BsmtExposure": {"No": 1, "Mn": 2, "Av": 3, "Gd": 4},
    "BsmtFinType1": {"Unf": 1, "LwQ": 2, "Rec": 3, "BLQ": 4, "ALQ": 5, "GLQ": 6},
    "BsmtFinType2": {"Unf": 1, "LwQ": 2, "Rec": 3, "BLQ": 4, "ALQ": 5, "GLQ": 6},
    "Electrical": {"Mix": 1, "FuseP": 2, "FuseF": 3, "FuseA": 4, "SBrkr": 5},
    "MSZoning": {"A": 0, "C": 1, "C (all)": 2, "FV": 3, "I": 4, "RH": 5, "RL": 6, "RP": 7, "RM": 8},
    "Street": {"Grvl": -1, "Pave": 1},
    "LotShape": {"IR3": 1, "IR2": 2, "IR1": 3, "Reg": 4},
    "LandContour": {"Low": 1, "HLS": 2, "Bnk": 3, "Lvl": 4},
    "Utilities": {"ELO": 1, "NoSeWa": 2, "NoSewr": 3, "AllPub": 4},
    "LotConfig": {"Inside": 1, "Corner": 2, "CulDSac": 3, "FR2": 4, "FR3": 5},
    "LandSlope": {"Sev": 1, "Mod": 2, "Gtl": 3},
    "Neighborhood": {
        "Blmngtn": 1, "Blueste": 2, "BrDale": 3, "BrkSide": 4, "ClearCr": 5, "CollgCr": 6, "Crawfor": 7,
        "Edwards": 8, "Gilbert": 9, "Greens": 10, "GrnHill": 11, "IDOTRR": 12, "Landmrk": 13, "MeadowV": 14,
        "Mitchel": 15, "NAmes": 16, "NoRidge": 17, "NPkVill": 18, "NridgHt": 19, "NWAmes": 20, "OldTown": 21,
        "SWISU": 22, "Sawyer": 23, "SawyerW": 24, "Somerst": 25, "StoneBr": 26, "Timber": 27, "Veenker": 28,
    },
    "Condition1": {"Artery": 1, "Feedr": 2, "Norm": 3, "RRNn": 4, "RRAn": 5, "PosN": 6, "PosA": 7, "RRNe": 8,
                   "RRAe": 9},
    "Condition2": {"Artery": 1, "Feedr": 2, "Norm": 3, "RRNn": 4, "RRAn": 5, "PosN": 6, "PosA": 7, "RRNe": 8,
                   "RRAe": 9},
    "BldgType": {"1Fam": 6, "2FmCon": 5, "2fmCon": 5, "Duplx": 4, "Duplex": 4, "Twnhs": 3, "TwnhsE": 2,
                 "TwnhsI": 1},
    "HouseStyle": {"1Story": 1, "1.5Fin": 2, "1.5Unf": 3, "2Story": 4, "2.5Fin": 5, "2.5Unf": 6, "SFoyer": 7,
                   "SLvl": 8},
    "RoofStyle": {"Flat": 1, "Gable": 2, "Gambrel": 3, "Hip": 4, "Mansard": 5, "Shed": 6},
    "RoofMatl": {"ClyTile": 1, "CompShg": 2, "Membran": 3, "Metal": 4, "Roll": 5, "Tar&Grv": 6, "WdShake": 7,
                 "WdShngl": 8},
    "MasVnrType": {"BrkCmn": 1, "Brk Cmn": 1, "BrkFace": 2, "CBlock": 3, "None": 4, "Stone": 5},
    "ExterQual": {"Ex": 5, "Gd": 4, "TA": 3, "Fa": 2, "Po": 1},
    "ExterCond": {"Ex": 5, "Gd": 4, "TA": 3, "Fa": 2, "Po": 1},
    "Foundation": {"BrkTil": 6, "CBlock": 5, "PConc": 4, "Slab": 3, "Stone": 2, "Wood": 1},
    "Heating": {"Floor": 6, "GasA": 5, "GasW": 4, "Grav": 3, "OthW": 2, "Wall": 1},
    "HeatingQC": {"Ex": 5, "Gd": 4, "TA": 3, "Fa": 2, "Po": 1},
    "Functional": {"Typ": 8, "Min1": 7, "Min2": 6, "Mod": 5, "Maj1": 4, "Maj2": 3, "Sev": 2, "Sal": 1},
    "KitchenQual": {"Ex": 5, "Gd": 4, "TA": 3, "Fa": 2, "Po": 1},
    "CentralAir": {"N": 0, "Y": 1},
    "SaleCondition": {"Normal": 6, "Abnorml": 5, "AdjLand": 4, "Alloca": 3, "Family": 2, "Partial": 1},
    "PavedDrive": {"N": 0, "P": 1, "Y": 2},
}
EXTERIOR = {
    "AsbShng": 1, "AsphShn": 2, "BrkComm": 3, "Brk Cmn": 3, "BrkFace": 4, "CBlock": 5, "CemntBd": 6, "CmentBd": 6,
    "HdBoard": 7, "ImStucc": 8, "MetalSd": 9, "Other": 10, "Plywood": 11, "PreCast": 12, "Stone": 13, "Stucco": 14,
    "VinylSd": 15, "Wd Sdng": 16, "WdShing": 17, "Wd Shng": 18,
}
CODES["Exterior1st"] = CODES["Exterior2nd"] = EXTERIOR

#: What the program puts in place of a missing value (the rest have none in train.csv).
FILL: dict[str, str | float] = {
    "Alley": 0, "LotFrontage": 0, "FireplaceQu": 0, "GarageType": 0, "GarageQual": 0, "GarageCars": 0,
    "GarageArea": 0, "GarageCond": 0, "GarageFinish": 0, "PoolQC": 0, "Fence": 0, "MiscFeature": 0, "BsmtQual": 0,
    "BsmtCond": 0, "BsmtExposure": 0, "BsmtFinSF1": 0, "BsmtFinSF2": 0, "BsmtUnfSF": 0, "TotalBsmtSF": 0,
    "BsmtFinType1": 0, "BsmtFullBath": 0, "BsmtHalfBath": 0, "BsmtFinType2": 0, "MasVnrArea": 0,
    "Electrical": "SBrkr", "Utilities": "AllPub", "Exterior1st": "Other", "Exterior2nd": "Other", "MasVnrType": 4,
    "Functional": "Typ", "KitchenQual": "TA",
}  # fmt: skip

#: prepare_competition_dataset's input features (without --onehot).
FEATURES = (
    "Alley", "MSSubClass", "MSZoning", "LotFrontage", "LotArea", "Street", "LotShape", "LandContour", "Utilities",
    "LotConfig", "LandSlope", "Neighborhood", "Condition1", "Condition2", "BldgType", "HouseStyle", "OverallQual",
    "OverallCond", "YearBuilt", "YearRemodAdd", "RoofStyle", "RoofMatl", "Exterior1st", "Exterior2nd", "MasVnrType",
    "MasVnrArea", "ExterQual", "ExterCond", "Foundation", "BsmtQual", "BsmtCond", "BsmtExposure", "BsmtFinType1",
    "BsmtFinSF1", "BsmtFinType2", "BsmtFinSF2", "BsmtUnfSF", "TotalBsmtSF", "Heating", "HeatingQC", "CentralAir",
    "Electrical", "1stFlrSF", "2ndFlrSF", "LowQualFinSF", "GrLivArea", "BsmtFullBath", "BsmtHalfBath", "FullBath",
    "HalfBath", "KitchenAbvGr", "KitchenQual", "TotRmsAbvGrd", "Functional", "Fireplaces", "FireplaceQu",
    "GarageType", "GarageFinish", "GarageCars", "GarageArea", "GarageQual", "GarageCond", "PavedDrive",
    "WoodDeckSF", "OpenPorchSF", "EnclosedPorch", "3SsnPorch", "ScreenPorch", "PoolArea", "PoolQC", "Fence",
    "MiscFeature", "MiscVal", "SaleCondition"
)

#: pandas.read_csv's default missing-value markers that occur in train.csv.
MISSING = {"NA", ""}


def _value(row: dict[str, str], col: str) -> float:
    raw = row[col]
    if raw in MISSING:
        if col == "MSZoning":  # convert_mszoning: Mitchel -> RL, IDOTRR -> RM
            raw = {"Mitchel": "RL", "IDOTRR": "RM"}.get(row["Neighborhood"], raw)
        elif col not in FILL:
            raise ValueError(f"{col}: a missing value the program does not fill")
        else:
            fill = FILL[col]
            if not isinstance(fill, str):
                return float(fill)
            raw = fill
    if col in CODES:
        if raw not in CODES[col]:
            raise ValueError(f"{col}: {raw!r} has no integer code in the program")
        return float(CODES[col][raw])
    return float(raw)


def load(mirror: Mirror, folder: str) -> tuple[np.ndarray, np.ndarray]:
    """load_and_preprocess_comp_data + prepare_competition_dataset: (X.values, y.values) in the file's order."""
    text = mirror.text(CASE.repo, f"{folder}/train.csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    # convert_GrLivArea (training mode): drop the huge houses sold cheaply.
    rows = [r for r in rows if not (float(r["GrLivArea"]) >= 4000 and float(r["SalePrice"]) < 300000)]
    x = np.array([[_value(r, col) for col in FEATURES] for r in rows])
    y = np.array([float(r["SalePrice"]) for r in rows])
    return x, y


def build(mirror: Mirror, variant: str) -> Program:
    import keras
    from keras import layers

    folder = CASE.path.format(variant="Buggy" if variant == "buggy" else "Correct")
    x, y = load(mirror, folder)
    adam = keras.optimizers.Adam()
    if variant == "buggy":
        model = keras.Sequential([
            keras.Input((x.shape[1],)),
            layers.Dense(20, kernel_initializer="glorot_normal"),
            layers.Activation("tanh"),
            layers.Dense(20, kernel_initializer="glorot_normal"),
            layers.Activation("tanh"),
            layers.Dense(1),
            layers.Activation("linear"),
        ], name="TFN-Adam")  # fmt: skip
        model.compile(loss="mean_squared_error", optimizer=adam, metrics=["accuracy"])
    else:
        model = keras.Sequential([
            keras.Input((x.shape[1],)),
            layers.Dense(20, activation="tanh", kernel_regularizer=None, kernel_initializer="glorot_normal"),
            layers.Dense(20, activation="tanh", kernel_regularizer=None, kernel_initializer="glorot_normal"),
            layers.Dense(1, activation="linear", kernel_regularizer=None, kernel_initializer="glorot_normal"),
        ], name="TFN-Adam")  # fmt: skip
        model.compile(loss="mean_squared_error", optimizer=adam)
    # train(): num_epochs=10, initial_epoch=1 -> num_epochs += initial_epoch - 1 = 10, so nine epochs run.
    fit = dict(x=x, y=y, validation_split=0.2, epochs=10, initial_epoch=1, batch_size=1)
    if variant == "buggy":
        fit["callbacks"] = []  # show_stopper is commented out for DeepLocalize's callback
    else:
        # show_stopper: EarlyStopping(monitor='val_loss', patience=num_epochs - 10) with num_epochs = 10.
        fit["callbacks"] = [keras.callbacks.EarlyStopping(monitor="val_loss", patience=0, verbose=1)]
    return Program(model, fit, task="regression")
