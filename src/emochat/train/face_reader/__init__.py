"""The face reader's calibration: the expression CNN's temperature, the AU-prototype reader's
sharpness and neutral bias, and their combination weight, all fitted on FER2013 PublicTest.

Writes ``emochat/models/face_expression/reader_calibration.json``; run
``python -m emochat.train.face_reader STEP`` (``features``, then ``fit``, then ``report``).
"""

STEPS = {
    "features": "CNN probabilities and photo-mode AU intensities of PublicTest + PrivateTest",
    "fit": "temperature, AU reader and combination weight on PublicTest -> the json",
    "report": "PrivateTest accuracy and expected calibration error, before and after",
}
